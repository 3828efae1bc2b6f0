import RealModule

/// KL(N(mu, diag var) || N(0, I)) per cell and its gradient: 0.5 sum(var + mu^2 - 1 - log var).
public enum GaussianKL {
    /// Row sums into `perRow`; d/dmu and d/dvar, scaled (and by each row's weight when given),
    /// added into the gradients when given.
    public static func evaluate<T: ModelScalar>(mean: UnsafePointer<T>, variance: UnsafePointer<T>, rows: Int, dimensions: Int,
                                                perRow: UnsafeMutablePointer<Double>, gradientScale scale: T, rowWeights: UnsafePointer<T>? = nil,
                                                meanGradient: UnsafeMutablePointer<T>?, varianceGradient: UnsafeMutablePointer<T>?) {
        for i in 0..<rows {
            let gradientScale = rowWeights.map { scale * $0[i] } ?? scale
            var kl = 0.0
            for d in 0..<dimensions {
                let k = i * dimensions + d, m = mean[k], v = variance[k]
                kl += 0.5 * Double(v + m * m - 1 - T.log(v))
                meanGradient?[k] += gradientScale * m
                varianceGradient?[k] += gradientScale * 0.5 * (1 - 1 / v)
            }
            perRow[i] = kl
        }
    }
}
