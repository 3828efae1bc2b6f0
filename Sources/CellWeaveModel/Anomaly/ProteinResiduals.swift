import RealModule

/// Pearson residuals of protein counts under totalVI's background/foreground mixture of two NBs
/// with one inverse dispersion: the mixture's mean M and variance V give r = (y - M) / sqrt(V),
/// and the weight 1 / Var(r^2) comes from the mixture's fourth central moment, as the NB's
/// weights come from its kurtosis (`AnomalyScorer.inverseVarianceOfSquaredResidual`).
public enum ProteinResiduals {
    /// Mean, variance and fourth central moment of the mixture pi NB(mu1, theta) + (1 - pi) NB(mu2, theta).
    public static func moments(background mu1: Double, foreground mu2: Double, backgroundProbability pi: Double,
                               theta: Double) -> (mean: Double, variance: Double, fourth: Double) {
        let mean = pi * mu1 + (1 - pi) * mu2
        var variance = 0.0, fourth = 0.0
        for (w, mu) in [(pi, mu1), (1 - pi, mu2)] {
            // NB cumulants: k2 = mu (1 + q), k3 = k2 (1 + 2q), k4 = k2 (1 + 6q (1 + q)), q = mu / theta.
            let q = mu / theta, k2 = mu * (1 + q), k3 = k2 * (1 + 2 * q), k4 = k2 * (1 + 6 * q * (1 + q))
            let centralFourth = k4 + 3 * k2 * k2, d = mu - mean
            variance += w * (k2 + d * d)
            fourth += w * (centralFourth + 4 * d * k3 + 6 * d * d * k2 + d * d * d * d)
        }
        return (mean, variance, fourth)
    }

    /// The residual of count y and its weight 1 / Var(r^2) = 1 / (E (y - M)^4 / V^2 - 1); zero
    /// weight where the mixture has no variance.
    public static func residual(_ y: Double, background mu1: Double, foreground mu2: Double, backgroundProbability pi: Double,
                                theta: Double) -> (residual: Double, weight: Double) {
        let (mean, variance, fourth) = moments(background: mu1, foreground: mu2, backgroundProbability: pi, theta: theta)
        guard variance > 0 else { return (0, 0) }
        let excess = fourth / (variance * variance) - 1
        return ((y - mean) / variance.squareRoot(), excess > 0 ? 1 / excess : 0)
    }
}
