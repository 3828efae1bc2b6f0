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
}
