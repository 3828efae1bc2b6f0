import CellWeaveCore
@testable import CellWeaveModel
import Foundation
import Testing

@Suite struct CountLikelihoodTests {
    /// Each likelihood is a distribution: its probabilities over x sum to one.
    @Test(arguments: [(0.3, 2.0, -1.0), (5.0, 0.5, 0.5), (40.0, 20.0, 2.0)])
    func probabilitiesSumToOne(mu: Double, theta: Double, pi: Double) {
        let xs = (0..<4000).map(Double.init)
        let nb = xs.reduce(0) { $0 + exp(NegativeBinomial.logLikelihood($1, mean: mu, theta: theta)) }
        let zinb = xs.reduce(0) { $0 + exp(ZeroInflatedNegativeBinomial.logLikelihood($1, mean: mu, theta: theta, dropoutLogit: pi)) }
        let poisson = xs.reduce(0) { $0 + exp(Poisson.logLikelihood($1, mean: mu)) }
        #expect(abs(nb - 1) < 1e-9 && abs(zinb - 1) < 1e-9 && abs(poisson - 1) < 1e-9)
        // Zero inflation adds sigmoid(pi) to the zero class.
        let p0 = exp(ZeroInflatedNegativeBinomial.logLikelihood(0, mean: mu, theta: theta, dropoutLogit: pi))
        let nb0 = exp(NegativeBinomial.logLikelihood(0, mean: mu, theta: theta)), s = 1 / (1 + exp(-pi))
        #expect(abs(p0 - (s + (1 - s) * nb0)) < 1e-12)
    }

    /// The fused minibatch pass equals the scalar definitions summed, and its gradients match central
    /// differences, for every likelihood and both dispersion kinds, on 1 and 3 parts.
    @Test(arguments: CountLikelihood.allCases, DispersionKind.allCases)
    func minibatchValueAndGradients(likelihood: CountLikelihood, dispersion: DispersionKind) {
        let genes = 5, data = ModelTestData.data(cells: 4, genes: genes, categoryCounts: [2], seed: 3)
        let batch = ModelTestData.batch(data, Double.self), rows = batch.rows
        let thetaRows = dispersion == .geneBatch ? 2 : 1
        var rng = SeededGenerator(seed: 4)
        let logits = Buffer<Double>((0..<(rows * genes)).map { _ in rng.nextGaussian() })
        let dropout = Buffer<Double>((0..<(rows * genes)).map { _ in rng.nextGaussian() })
        let logTheta = Buffer<Double>((0..<(thetaRows * genes)).map { _ in rng.nextGaussian() })
        let dLogits = Buffer<Double>(count: rows * genes), dDropout = Buffer<Double>(count: rows * genes)
        let perRow = Buffer<Double>(count: rows)
        func evaluate(parts: Int, gradients: Bool) -> (Double, [Double]) {
            let ws = LikelihoodWorkspace<Double>(genes: genes, dispersionRows: thetaRows, parts: parts)
            let dTheta = Buffer<Double>(count: thetaRows * genes)
            likelihood.minibatch(batch, logits: logits.pointer, dropoutLogits: dropout.pointer, logTheta: logTheta.pointer,
                                 dispersion: dispersion, gradientScale: 1, logitGradient: gradients ? dLogits.pointer : nil,
                                 dropoutGradient: gradients ? dDropout.pointer : nil,
                                 logThetaGradient: gradients ? dTheta.pointer : nil, rowLogLikelihood: perRow.pointer, workspace: ws)
            return ((0..<rows).reduce(0) { $0 + perRow[$1] }, dTheta.array)
        }
        let (total, dTheta) = evaluate(parts: 3, gradients: true)
        let logitGradient = dLogits.array, dropoutGradient = dDropout.array

        let dense = data.counts.toDense()
        var expected = 0.0
        for i in 0..<rows {
            let row = (0..<genes).map { Double(dense[i, $0]) }, library = row.reduce(0, +)
            let e = (0..<genes).map { exp(logits[i * genes + $0]) }, s = e.reduce(0, +)
            let d = dispersion == .gene ? 0 : Int(data.categoryCodes[0][i])
            for j in 0..<genes {
                let mu = library * e[j] / s, theta = exp(logTheta[d * genes + j]), x = row[j]
                switch likelihood {
                case .nb: expected += NegativeBinomial.logLikelihood(x, mean: mu, theta: theta)
                case .zinb: expected += ZeroInflatedNegativeBinomial.logLikelihood(x, mean: mu, theta: theta, dropoutLogit: dropout[i * genes + j])
                case .poisson: expected += Poisson.logLikelihood(x, mean: mu)
                }
            }
        }
        #expect(abs(total - expected) < 1e-10 * abs(expected))
        #expect(abs(evaluate(parts: 1, gradients: false).0 - total) < 1e-10 * abs(total))

        let value = { evaluate(parts: 1, gradients: false).0 }
        for k in 0..<(rows * genes) {
            let d = ModelTestData.centralDifference(logits, k, value)
            #expect(abs(logitGradient[k] - d) < 1e-6 * max(1, abs(d)), "logit \(k)")
        }
        if likelihood == .zinb {
            for k in 0..<(rows * genes) {
                let d = ModelTestData.centralDifference(dropout, k, value)
                #expect(abs(dropoutGradient[k] - d) < 1e-6 * max(1, abs(d)), "dropout logit \(k)")
            }
        }
        if likelihood.hasDispersion {
            for k in 0..<(thetaRows * genes) {
                let d = ModelTestData.centralDifference(logTheta, k, value)
                #expect(abs(dTheta[k] - d) < 1e-6 * max(1, abs(d)), "log theta \(k)")
            }
        }
    }
}
