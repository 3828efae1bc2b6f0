import RealModule

/// The Poisson count likelihood with mean mu.
public enum Poisson {
    public static func logLikelihood(_ x: Double, mean mu: Double) -> Double {
        x * Double.log(mu) - mu - Double.logGamma(x + 1)
    }
}
