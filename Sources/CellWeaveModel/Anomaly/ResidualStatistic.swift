/// How a cell's model-based residuals become its anomaly score.
/// - weightedMeanSquared (default): the mean of squared Pearson residuals, each gene weighted by
///   1 / Var(r^2) under the model (2 + 6/theta + theta / (mu (mu + theta)) for the NB). Plain
///   squares are dominated by genes with tiny means, where one stray count gives r^2 ~ 1/mu; the
///   inverse-variance weights make the score the minimum-variance combination of the genes'
///   r^2 - 1, which keeps expectation 1 under the model and gains most of the power.
/// - meanSquared: the unweighted mean squared Pearson residual.
/// - deviance: the mean negative binomial deviance.
/// - reconstruction: mean -log p(x) at the posterior mean, scVI's reconstruction error, kept as a baseline.
public enum ResidualStatistic: String, Codable, Sendable, CaseIterable {
    case weightedMeanSquared = "weighted-mean-squared"
    case meanSquared = "mean-squared"
    case deviance
    case reconstruction
}
