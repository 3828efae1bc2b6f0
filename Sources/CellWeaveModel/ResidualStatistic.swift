/// How a cell's model-based residuals become its anomaly score: the mean squared Pearson residual
/// (default), the mean negative binomial deviance, or the reconstruction loss (mean -log p(x) at
/// the posterior mean, scVI's reconstruction error, kept as a baseline).
public enum ResidualStatistic: String, Codable, Sendable, CaseIterable {
    case meanSquared = "mean-squared"
    case deviance
    case reconstruction
}
