/// The count distribution of the decoder: negative binomial (scVI's default), zero-inflated
/// negative binomial, or Poisson. Names as scvi-tools' gene_likelihood.
public enum CountLikelihood: String, Codable, Sendable, CaseIterable {
    case nb, zinb, poisson

    /// Whether the decoder has a zero-inflation head.
    public var hasDropout: Bool { self == .zinb }
    /// Whether the model has inverse dispersions.
    public var hasDispersion: Bool { self != .poisson }
}
