import RealModule

/// Samplers for the distributions count simulations need, on top of the seeded stream, so that
/// a seed reproduces a simulation bit for bit.
extension SeededGenerator {
    /// Uniform in (0, 1): never exactly 0, so logarithms stay finite.
    public mutating func nextOpenUniform() -> Double { (Double(next() >> 11) + 0.5) * 0x1p-53 }

    /// Gamma(shape, scale) by Marsaglia & Tsang (2000); shapes below 1 through the
    /// Gamma(shape + 1) * U^(1/shape) identity.
    public mutating func nextGamma(shape: Double, scale: Double = 1) -> Double {
        precondition(shape > 0 && scale > 0)
        if shape < 1 {
            return nextGamma(shape: shape + 1, scale: scale) * Double.pow(nextOpenUniform(), 1 / shape)
        }
        let d = shape - 1.0 / 3, c = 1 / (9 * d).squareRoot()
        while true {
            var x: Double, v: Double
            repeat {
                x = nextGaussian()
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = nextOpenUniform()
            if u < 1 - 0.0331 * x * x * x * x || Double.log(u) < 0.5 * x * x + d * (1 - v + Double.log(v)) {
                return d * v * scale
            }
        }
    }

    /// Poisson(lambda): multiplication of uniforms for small lambda, Hörmann's transformed
    /// rejection (PTRS, 1993) above 10.
    public mutating func nextPoisson(_ lambda: Double) -> Int {
        precondition(lambda >= 0)
        if lambda == 0 { return 0 }
        if lambda < 10 {
            let limit = Double.exp(-lambda)
            var k = 0, product = nextOpenUniform()
            while product > limit {
                k += 1
                product *= nextOpenUniform()
            }
            return k
        }
        let slam = lambda.squareRoot(), loglam = Double.log(lambda)
        let b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b
        let invAlpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2)
        while true {
            let u = nextOpenUniform() - 0.5, v = nextOpenUniform()
            let us = 0.5 - abs(u)
            let k = (2 * a / us + b) * u + lambda + 0.43
            guard k >= 0 else { continue }
            let kf = k.rounded(.down)
            if us >= 0.07 && v <= vr { return Int(kf) }
            if us < 0.013 && v > us { continue }
            if Double.log(v) + Double.log(invAlpha) - Double.log(a / (us * us) + b) <= -lambda + kf * loglam - Double.logGamma(kf + 1) {
                return Int(kf)
            }
        }
    }

    /// Negative binomial with mean mu and inverse dispersion theta (variance mu + mu^2 / theta),
    /// as the Gamma-Poisson mixture the count models assume.
    public mutating func nextNegativeBinomial(mean mu: Double, theta: Double) -> Int {
        mu <= 0 ? 0 : nextPoisson(nextGamma(shape: theta, scale: mu / theta))
    }
}
