import CellWeaveCore
import RealModule

/// The negative binomial count likelihood with mean mu and inverse dispersion theta
/// (variance mu + mu^2 / theta), as scVI parameterises it (DESIGN.md section 4):
///
///     log p(x) = lgamma(x + theta) - lgamma(theta) - lgamma(x + 1)
///              + theta log(theta / (theta + mu)) + x log(mu / (theta + mu))
///
/// For x = 0 the gamma terms cancel, so over a sparse minibatch the gamma functions are needed
/// at the non-zeros only.
public enum NegativeBinomial {
    public static func logLikelihood(_ x: Double, mean mu: Double, theta: Double) -> Double {
        let logThetaMu = Double.log(theta + mu)
        var ll = theta * (Double.log(theta) - logThetaMu)
        if x > 0 {
            ll += Double.logGamma(x + theta) - Double.logGamma(theta) - Double.logGamma(x + 1) + x * (Double.log(mu) - logThetaMu)
        }
        return ll
    }

    /// d log p / d mu and d log p / d theta.
    public static func gradient(_ x: Double, mean mu: Double, theta: Double) -> (mean: Double, theta: Double) {
        let inv = 1 / (theta + mu)
        var dMu = -theta * inv
        var dTheta = Double.log(theta) + 1 - Double.log(theta + mu) - theta * inv
        if x > 0 {
            dMu += x / mu - x * inv
            dTheta += SpecialFunctions.digamma(x + theta) - SpecialFunctions.digamma(theta) - x * inv
        }
        return (dMu, dTheta)
    }

    /// The reconstruction term of a minibatch, fused into one pass per cell: decoder logits z
    /// (cells x genes, row-major) give proportions rho = softmax(z), means mu = library * rho.
    /// Returns the summed log-likelihood and writes d/dz into `logitGradient` and adds d/d(log theta)
    /// into `logThetaGradient`. Zeros cost one logarithm each; gamma functions run at non-zeros only.
    public static func minibatch(counts: CSRMatrix, rows: Range<Int>, logits: UnsafeBufferPointer<Double>,
                                 logTheta: [Double], logitGradient: UnsafeMutableBufferPointer<Double>,
                                 logThetaGradient: inout [Double]) -> Double {
        let g = logTheta.count
        let theta = logTheta.map { Double.exp($0) }
        var total = 0.0
        var rho = [Double](repeating: 0, count: g), dMu = [Double](repeating: 0, count: g)
        for (i, c) in rows.enumerated() {
            let z = UnsafeBufferPointer(rebasing: logits[(i * g)..<((i + 1) * g)])
            let library = (counts.indptr[c]..<counts.indptr[c + 1]).reduce(0.0) { $0 + Double(counts.values[$1]) }
            // Softmax, shifted by the maximum for stability.
            let top = z.max() ?? 0
            var sum = 0.0
            for j in 0..<g { rho[j] = Double.exp(z[j] - top); sum += rho[j] }
            for j in 0..<g { rho[j] /= sum }
            // Every gene as a zero first, then the non-zeros corrected.
            for j in 0..<g {
                let mu = library * rho[j], lt = Double.log(theta[j] + mu), inv = 1 / (theta[j] + mu)
                total += theta[j] * (logTheta[j] - lt)
                dMu[j] = -theta[j] * inv
                logThetaGradient[j] += theta[j] * (logTheta[j] + 1 - lt - theta[j] * inv)
            }
            for k in counts.indptr[c]..<counts.indptr[c + 1] {
                let j = Int(counts.indices[k]), x = Double(counts.values[k])
                let mu = library * rho[j], lt = Double.log(theta[j] + mu), inv = 1 / (theta[j] + mu)
                total += Double.logGamma(x + theta[j]) - Double.logGamma(theta[j]) - Double.logGamma(x + 1) + x * (Double.log(mu) - lt)
                dMu[j] += x / mu - x * inv
                logThetaGradient[j] += theta[j] * (SpecialFunctions.digamma(x + theta[j]) - SpecialFunctions.digamma(theta[j]) - x * inv)
            }
            // Through mu = library * softmax(z): d/dz_j = rho_j (a_j - sum_h rho_h a_h), a = library * dMu.
            var weighted = 0.0
            for j in 0..<g { weighted += rho[j] * library * dMu[j] }
            for j in 0..<g { logitGradient[i * g + j] = rho[j] * (library * dMu[j] - weighted) }
        }
        return total
    }
}
