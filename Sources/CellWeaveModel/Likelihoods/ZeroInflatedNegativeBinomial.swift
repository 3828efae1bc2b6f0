import RealModule

/// The zero-inflated negative binomial with zero-inflation logit pi, as scVI writes it:
/// p(0) = sigmoid(pi) + sigmoid(-pi) NB(0), p(x > 0) = sigmoid(-pi) NB(x).
public enum ZeroInflatedNegativeBinomial {
    public static func logLikelihood(_ x: Double, mean mu: Double, theta: Double, dropoutLogit pi: Double) -> Double {
        let nb = NegativeBinomial.logLikelihood(x, mean: mu, theta: theta)
        if x > 0 { return nb - softplus(pi) }
        return softplus(nb - pi) - softplus(-pi)
    }

    /// log(1 + e^x) without overflow.
    static func softplus(_ x: Double) -> Double { x > 0 ? x + Double.log(onePlus: Double.exp(-x)) : Double.log(onePlus: Double.exp(x)) }
}
