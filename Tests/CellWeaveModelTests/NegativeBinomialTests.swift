import CellWeaveCore
@testable import CellWeaveModel
import Foundation
import Testing

@Suite struct NegativeBinomialTests {
    struct Golden: Decodable {
        struct NB: Decodable { let x: Double; let mu: Double; let theta: Double; let logpmf: Double }
        struct Point: Decodable { let x: Double; let value: Double }
        let nb: [NB]
        let digamma: [Point]
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

    /// The fused minibatch term against its definition, and its gradients against finite differences.
    @Test func minibatchValueAndGradients() throws {
        let counts = try CSRMatrix(rows: 3, cols: 4, indptr: [0, 2, 3, 6], indices: [0, 3, 1, 0, 2, 3], values: [3, 1, 7, 2, 2, 9])
        var rng = SeededGenerator(seed: 2)
        let logits = (0..<8).map { _ in rng.nextGaussian() }
        let logTheta = (0..<4).map { _ in rng.nextGaussian() }
        func evaluate(_ z: [Double], _ lt: [Double]) -> (Double, [Double], [Double]) {
            var dz = [Double](repeating: 0, count: z.count), dTheta = [Double](repeating: 0, count: lt.count)
            let ll = z.withUnsafeBufferPointer { pz in
                dz.withUnsafeMutableBufferPointer { NegativeBinomial.minibatch(counts: counts, rows: 1..<3, logits: pz, logTheta: lt,
                                                                               logitGradient: $0, logThetaGradient: &dTheta) }
            }
            return (ll, dz, dTheta)
        }
        let (ll, dz, dTheta) = evaluate(logits, logTheta)

        // Definition: softmax proportions times the library size, summed over cells 1 and 2.
        var expected = 0.0
        for (i, c) in [1, 2].enumerated() {
            let z = Array(logits[(i * 4)..<((i + 1) * 4)])
            let e = z.map { exp($0) }, s = e.reduce(0, +)
            let row = counts.toDense()
            let library = (0..<4).reduce(0.0) { $0 + Double(row[c, $1]) }
            for j in 0..<4 { expected += NegativeBinomial.logLikelihood(Double(row[c, j]), mean: library * e[j] / s, theta: exp(logTheta[j])) }
        }
        #expect(abs(ll - expected) < 1e-10 * abs(expected))

        /// Central differences of the summed log-likelihood in each coordinate of `point`.
        func numeric(_ point: [Double], _ value: ([Double]) -> Double) -> [Double] {
            let h = 1e-6
            return point.indices.map { k in
                var up = point, down = point
                up[k] += h
                down[k] -= h
                return (value(up) - value(down)) / (2 * h)
            }
        }
        for (k, d) in numeric(logits, { evaluate($0, logTheta).0 }).enumerated() {
            #expect(abs(dz[k] - d) < 1e-6 * max(1, abs(d)), "logit \(k)")
        }
        for (k, d) in numeric(logTheta, { evaluate(logits, $0).0 }).enumerated() {
            #expect(abs(dTheta[k] - d) < 1e-6 * max(1, abs(d)), "log theta \(k)")
        }
    }
}
