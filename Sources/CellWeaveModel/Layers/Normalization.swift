/// What follows each hidden linear map before the ReLU: batch norm (scVI's default), layer norm
/// without affine parameters (scVI's use_layer_norm), or nothing.
public enum Normalization: String, Codable, Sendable, CaseIterable {
    case batch, layer, none
}
