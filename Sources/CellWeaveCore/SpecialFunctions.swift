import RealModule

/// Special functions the count likelihoods need beyond swift-numerics (which has logGamma).
public enum SpecialFunctions {
    /// The digamma function psi(x) = d/dx log Gamma(x) for x > 0: the recurrence
    /// psi(x) = psi(x + 1) - 1/x up to x >= 10, then the asymptotic series (error below 1e-14).
    /// NaN outside x > 0, so that bad input surfaces as a non-finite loss, not a crash.
    public static func digamma(_ x: Double) -> Double {
        guard x > 0 else { return .nan }
        var x = x, shift = 0.0
        while x < 10 {
            shift -= 1 / x
            x += 1
        }
        let f = 1 / (x * x)
        let series = f * (-1.0 / 12 + f * (1.0 / 120 + f * (-1.0 / 252 + f * (1.0 / 240 + f * (-1.0 / 132 + f * (691.0 / 32760 + f * (-1.0 / 12)))))))
        return shift + Double.log(x) - 0.5 / x + series
    }

    /// log Gamma(x) and psi(x) for x > 0 from one logarithm, where the likelihoods need both at
    /// once: the recurrences up to x >= 10, then Stirling's series for log Gamma (error below
    /// 1e-14 of the value) and psi as `digamma` computes it (the same bits). About a third of the
    /// cost of glibc's lgamma beside `digamma`.
    public static func logGammaAndDigamma(_ x: Double) -> (logGamma: Double, digamma: Double) {
        guard x > 0 else { return (.nan, .nan) }
        var x = x, shift = 0.0, product = 1.0
        while x < 10 {
            shift -= 1 / x
            product *= x
            x += 1
        }
        let logX = Double.log(x), r = 1 / x, f = r * r
        let series = f * (-1.0 / 12 + f * (1.0 / 120 + f * (-1.0 / 252 + f * (1.0 / 240 + f * (-1.0 / 132 + f * (691.0 / 32760 + f * (-1.0 / 12)))))))
        let stirling = r * (1.0 / 12 + f * (-1.0 / 360 + f * (1.0 / 1260 + f * (-1.0 / 1680 + f * (1.0 / 1188 + f * (-691.0 / 360_360 + f * (1.0 / 156)))))))
        let logGamma = (x - 0.5) * logX - x + halfLogTwoPi + stirling - (product == 1 ? 0 : Double.log(product))
        return (logGamma, shift + logX - 0.5 / x + series)
    }

    private static let halfLogTwoPi = 0.5 * Double.log(2 * Double.pi)
}
