import CellWeaveCore
@testable import CellWeaveModel
import Foundation
import Testing

@Suite struct NegativeBinomialTests {
    struct Golden: Decodable {
        struct NB: Decodable { let x: Double; let mu: Double; let theta: Double; let logpmf: Double }
        struct Point: Decodable { let x: Double; let value: Double }
        struct GammaPoint: Decodable { let x: Double; let value: Double; let digamma: Double }
        let nb: [NB]
        let digamma: [Point]
        let logGamma: [GammaPoint]
    }

    /// Values from scipy (reference/golden/make_nb_golden.py).
    let golden: Golden = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("reference/golden/nb_scipy.json")
        return try! JSONDecoder().decode(Golden.self, from: Data(contentsOf: url))
    }()

    @Test func logLikelihoodEqualsScipy() {
        for c in golden.nb {
            let ll = NegativeBinomial.logLikelihood(c.x, mean: c.mu, theta: c.theta)
            #expect(abs(ll - c.logpmf) <= 1e-10 * max(1, abs(c.logpmf)), "x \(c.x) mu \(c.mu) theta \(c.theta)")
        }
    }

    @Test func digammaEqualsScipy() {
        for p in golden.digamma { #expect(abs(SpecialFunctions.digamma(p.x) - p.value) < 1e-12, "x \(p.x)") }
    }

    /// Both from one logarithm: log Gamma to 1e-14 of its size, psi the bits `digamma` gives.
    @Test func logGammaAndDigammaEqualScipy() {
        for p in golden.logGamma {
            let (logGamma, digamma) = SpecialFunctions.logGammaAndDigamma(p.x)
            #expect(abs(logGamma - p.value) <= 1e-14 * max(1, abs(p.value)), "x \(p.x): \(logGamma) vs \(p.value)")
            #expect(abs(digamma - p.digamma) < 1e-12 && digamma == SpecialFunctions.digamma(p.x), "x \(p.x)")
        }
    }

    @Test func gradientMatchesFiniteDifferences() {
        for c in golden.nb where c.mu > 0.1 {
            let g = NegativeBinomial.gradient(c.x, mean: c.mu, theta: c.theta)
            let h = 1e-6
            let dMu = (NegativeBinomial.logLikelihood(c.x, mean: c.mu * (1 + h), theta: c.theta)
                - NegativeBinomial.logLikelihood(c.x, mean: c.mu * (1 - h), theta: c.theta)) / (2 * h * c.mu)
            let dTheta = (NegativeBinomial.logLikelihood(c.x, mean: c.mu, theta: c.theta * (1 + h))
                - NegativeBinomial.logLikelihood(c.x, mean: c.mu, theta: c.theta * (1 - h))) / (2 * h * c.theta)
            #expect(abs(g.mean - dMu) <= 1e-5 * max(1, abs(dMu)), "mu: x \(c.x) mu \(c.mu) theta \(c.theta)")
            #expect(abs(g.theta - dTheta) <= 1e-5 * max(1, abs(dTheta)), "theta: x \(c.x) mu \(c.mu) theta \(c.theta)")
        }
    }
}
