/// The RNA decoder's network: scVI's hidden layers (`Decoder`), or LDVAE's single linear map
/// (`LinearDecoder`), whose weights read as gene programs.
public enum DecoderKind: String, Codable, Sendable, CaseIterable {
    case nonlinear, linear
}
