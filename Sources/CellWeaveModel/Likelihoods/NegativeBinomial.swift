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
}
