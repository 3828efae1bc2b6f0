/// The joint posterior of a cell's observed modalities (DESIGN.md section 4): the product of their
/// Gaussian experts N(mu_m, var_m) with the prior expert N(0, I),
///
///     precision = 1 + sum_m 1 / var_m,   mean = (sum_m mu_m / var_m) / precision,
///
/// per latent dimension. A modality the cell lacks contributes no expert.
public enum ProductOfExperts {
    /// One row: the experts' mean and variance rows of `dimensions` values, through pointers the
    /// caller keeps (no allocation per row).
    @inline(__always)
    public static func forward<T: ModelScalar>(means: UnsafeBufferPointer<UnsafePointer<T>>, variances: UnsafeBufferPointer<UnsafePointer<T>>,
                                              dimensions: Int,
                                              mean: UnsafeMutablePointer<T>, variance: UnsafeMutablePointer<T>) {
        for d in 0..<dimensions {
            var precision: T = 1, weighted: T = 0
            for e in means.indices {
                let p = 1 / variances[e][d]
                precision += p
                weighted += means[e][d] * p
            }
            variance[d] = 1 / precision
            mean[d] = weighted / precision
        }
    }

    /// d loss / d expert mean and variance, added into the experts' gradient rows, from d loss / d
    /// the joint mean and variance of the row `forward` computed (mean, variance):
    /// d mean / d mu_m = p_m / precision, d mean / d p_m = (mu_m - mean) / precision,
    /// d variance / d p_m = -1 / precision^2, and d p_m / d var_m = -p_m^2.
    @inline(__always)
    public static func backward<T: ModelScalar>(means: UnsafeBufferPointer<UnsafePointer<T>>, variances: UnsafeBufferPointer<UnsafePointer<T>>,
                                               dimensions: Int,
                                               mean: UnsafePointer<T>, variance: UnsafePointer<T>,
                                               meanGradient: UnsafePointer<T>, varianceGradient: UnsafePointer<T>,
                                               expertMeanGradients: UnsafeBufferPointer<UnsafeMutablePointer<T>>,
                                               expertVarianceGradients: UnsafeBufferPointer<UnsafeMutablePointer<T>>) {
        for d in 0..<dimensions {
            let v = variance[d], gm = meanGradient[d], gv = varianceGradient[d]
            for e in means.indices {
                let p = 1 / variances[e][d]
                expertMeanGradients[e][d] += gm * p * v
                let dPrecision = gm * (means[e][d] - mean[d]) * v - gv * v * v
                expertVarianceGradients[e][d] -= dPrecision * p * p
            }
        }
    }
}
