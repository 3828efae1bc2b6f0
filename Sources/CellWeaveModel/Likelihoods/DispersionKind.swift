/// Inverse dispersion theta per gene, or per gene and batch (scVI's dispersion="gene-batch";
/// the batch is the first covariate key).
public enum DispersionKind: String, Codable, Sendable, CaseIterable {
    case gene
    case geneBatch = "gene-batch"
}
