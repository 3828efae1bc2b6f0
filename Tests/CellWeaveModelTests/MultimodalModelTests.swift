import CellWeaveCore
@testable import CellWeaveModel
import Foundation
import RealModule
import Testing

/// The product of experts, totalVI's protein likelihood and the MVAE objective, checked by
/// central differences in Double as the RNA model's layers are.
@Suite struct MultimodalModelTests {
    /// RNA counts of `cells` cells plus protein counts (large ones too, past the gamma recurrence)
    /// for the cells where `has` is true.
    static func data(cells: Int = 7, genes: Int = 6, proteins: Int = 4, categoryCounts: [Int] = [3, 2], seed: UInt64 = 11,
                     has: (Int) -> Bool = { $0 % 3 != 1 }) -> TrainingData {
        var data = ModelTestData.data(cells: cells, genes: genes, categoryCounts: categoryCounts, seed: seed)
        var rng = SeededGenerator(seed: seed &+ 100)
        let measured = (0..<cells).filter(has)
        var indptr = [0], indices: [Int32] = [], values: [Float] = []
        for _ in measured {
            for j in 0..<proteins where rng.nextUniformFloat() < 0.85 {
                indices.append(Int32(j))
                values.append(Float(1 + Int(rng.nextUniformFloat() * 60)))
            }
            indptr.append(indices.count)
        }
        let counts = CSRMatrix(uncheckedRows: measured.count, cols: proteins, indptr: indptr, indices: indices, values: values)
        data.modalities = [ModalityCounts(kind: .protein, counts: counts, cells: measured, totalCells: cells)]
        return data
    }

    static func configuration(_ data: TrainingData) -> ModelConfiguration {
        var config = ModelConfiguration(genes: data.genes, categoryCounts: data.categoryCounts)
        config.latent = 3
        config.hidden = 5
        config.layers = 2
        config.dropoutRate = 0.2
        config.modalities = data.modalities.map { ModalityConfiguration(kind: $0.kind, features: $0.counts.cols) }
        return config
    }

    @Test func productOfExpertsMatchesClosedFormAndDifferences() {
        let d = 3
        let means = [Buffer<Double>([0.3, -1.2, 2.0]), Buffer<Double>([1.1, 0.4, -0.5])]
        let variances = [Buffer<Double>([0.5, 2.0, 0.1]), Buffer<Double>([1.5, 0.3, 0.8])]
        let mean = Buffer<Double>(count: d), variance = Buffer<Double>(count: d)
        let m = means.map { UnsafePointer($0.pointer) }, v = variances.map { UnsafePointer($0.pointer) }
        func joint() {
            m.withUnsafeBufferPointer { mp in v.withUnsafeBufferPointer { vp in
                ProductOfExperts.forward(means: mp, variances: vp, dimensions: d, mean: mean.pointer, variance: variance.pointer)
            } }
        }
        joint()
        for k in 0..<d {
            let precision = 1 + 1 / variances[0][k] + 1 / variances[1][k]
            #expect(abs(variance[k] - 1 / precision) < 1e-14)
            #expect(abs(mean[k] - (means[0][k] / variances[0][k] + means[1][k] / variances[1][k]) / precision) < 1e-14)
        }
        // A loss of the joint posterior: sum a_k mean_k + b_k variance_k.
        let a = Buffer<Double>([0.7, -0.2, 1.3]), b = Buffer<Double>([-0.4, 0.9, 0.25])
        func loss() -> Double { joint(); return (0..<d).map { a[$0] * mean[$0] + b[$0] * variance[$0] }.reduce(0, +) }
        let dm = [Buffer<Double>(count: d), Buffer<Double>(count: d)], dv = [Buffer<Double>(count: d), Buffer<Double>(count: d)]
        joint()
        let gm = dm.map(\.pointer), gv = dv.map(\.pointer)
        m.withUnsafeBufferPointer { mp in v.withUnsafeBufferPointer { vp in
            gm.withUnsafeBufferPointer { gmp in gv.withUnsafeBufferPointer { gvp in
                ProductOfExperts.backward(means: mp, variances: vp, dimensions: d, mean: mean.pointer, variance: variance.pointer,
                                          meanGradient: a.pointer, varianceGradient: b.pointer, expertMeanGradients: gmp, expertVarianceGradients: gvp)
            } }
        } }
        for e in 0..<2 {
            for k in 0..<d {
                #expect(abs(dm[e][k] - ModelTestData.centralDifference(means[e], k, loss)) < 1e-8)
                #expect(abs(dv[e][k] - ModelTestData.centralDifference(variances[e], k, loss)) < 1e-7)
            }
        }
    }

    struct Case: CustomTestStringConvertible, Sendable {
        let likelihood: CountLikelihood
        let encodeCovariates: Bool
        var training = true
        var crossModal = CrossModalReconstruction.all
        var decoder = DecoderKind.nonlinear
        var testDescription: String {
            "\(likelihood) encodeCovariates=\(encodeCovariates)\(training ? "" : " inference mode")\(crossModal == .all ? "" : " cross-modal \(crossModal)")"
                + (decoder == .linear ? " linear RNA decoder" : "")
        }
    }

    static let cases = [
        Case(likelihood: .nb, encodeCovariates: false),
        Case(likelihood: .zinb, encodeCovariates: true),
        Case(likelihood: .nb, encodeCovariates: true, training: false),
        Case(likelihood: .nb, encodeCovariates: false, crossModal: .none),
        Case(likelihood: .nb, encodeCovariates: false, crossModal: .rna),
        Case(likelihood: .zinb, encodeCovariates: false, decoder: .linear),
    ]

    /// Every parameter's gradient of the whole MVAE loss (RNA and protein experts, their product
    /// with the prior per term, the decoders of both modalities with the protein background and
    /// its prior, the KL of every term) equals central differences. Some cells lack protein.
    @Test(arguments: cases)
    func gradientsMatchFiniteDifferences(_ c: Case) {
        let data = Self.data()
        var config = Self.configuration(data)
        config.likelihood = c.likelihood
        config.encodeCovariates = c.encodeCovariates
        config.crossModalReconstruction = c.crossModal
        config.decoder = c.decoder
        let model = VariationalAutoencoder<Double>(configuration: config, capacity: 8, threads: 2, seed: 5)
        let batch = model.makeBatch(covariateKeys: 2)
        batch.gather(data, cells: 0..<data.cells)
        let checked = ModelTestData.checkGradients(model, batch, training: c.training)
        let protein = checked.filter { $0.key.hasPrefix("protein.") }.values.reduce(0, +)
        #expect(protein > 200 && checked.values.reduce(0, +) > 500)
    }

    /// The protein decoder's log-likelihood is the totalVI mixture of two NB components with the
    /// background's probability sigmoid(logit), each evaluated by the scalar NB (checked against
    /// scipy elsewhere).
    @Test func proteinLikelihoodIsTheBackgroundForegroundMixture() {
        let data = Self.data(has: { _ in true })
        let config = Self.configuration(data)
        var initial = SeededGenerator(seed: 21)
        let decoder = ProteinDecoder<Double>(configuration: config, proteins: 4, batches: 3, capacity: 8, generator: &initial)
        let batch = SparseBatch<Double>(covariateKeys: 2)
        let m = data.modalities[0]
        batch.gather(m.counts, rows: Array(0..<m.counts.rows), cells: m.cells, codes: data.categoryCodes)
        let z = Buffer<Double>((0..<(batch.rows * 3)).map { Double($0 % 5) * 0.3 - 0.6 })
        var g = SeededGenerator(seed: 3)
        let logLikelihood = Buffer<Double>(count: batch.rows), kl = Buffer<Double>(count: batch.rows)
        decoder.reconstruct(z.pointer, batch: batch, training: false, lossScale: nil, rowWeights: nil, klWeight: 1,
                            logLikelihood: logLikelihood.pointer, extraKL: kl.pointer, generator: &g)
        // The same draws of the background noise the decoder took.
        var replay = SeededGenerator(seed: 3)
        let noise = (0..<(batch.rows * 4)).map { _ in replay.nextGaussian() }
        for i in 0..<batch.rows {
            var y = [Double](repeating: 0, count: 4)
            for k in batch.rowStart[i]..<batch.rowStart[i + 1] { y[Int(batch.genes[k])] = batch.counts[k] }
            var expected = 0.0
            for j in 0..<4 {
                let o = i * 4 + j, theta = Double.exp(decoder.logTheta.value[j])
                let beta = CountLikelihood.softplus(decoder.scalePreactivation[o]) + 1e-8
                let background = Double.exp(decoder.alpha[o] + beta * noise[o])
                let foreground = background * (max(decoder.foregroundPreactivation[o], 0) + 1 + 1e-8)
                let pi = 1 / (1 + Double.exp(-decoder.mixingLogits[o]))
                let nb1 = NegativeBinomial.logLikelihood(y[j], mean: background, theta: theta)
                let nb2 = NegativeBinomial.logLikelihood(y[j], mean: foreground, theta: theta)
                expected += Double.log(pi * Double.exp(nb1) + (1 - pi) * Double.exp(nb2))
            }
            #expect(abs(logLikelihood[i] - expected) < 1e-9 * max(1, abs(expected)), "row \(i): \(logLikelihood[i]) vs \(expected)")
        }
    }

    /// Training's Float goes through the C kernel (`cw_protein_row`), Double through the Swift
    /// code the tests above check: on the same inputs (19 proteins: vector lanes and a remainder)
    /// the log-likelihoods, KLs and every parameter gradient agree to Float's rounding.
    @Test func proteinLikelihoodInFloatIsTheSwiftInDouble() {
        let data = Self.data(cells: 9, proteins: 19, has: { _ in true })
        let config = Self.configuration(data)
        func run<T: ModelScalar>(_: T.Type) -> (logLikelihood: [Double], kl: [Double], gradients: [[Double]]) {
            var initial = SeededGenerator(seed: 21)
            let decoder = ProteinDecoder<T>(configuration: config, proteins: 19, batches: 3, capacity: 9, parts: 2, generator: &initial)
            let batch = SparseBatch<T>(covariateKeys: 2)
            let m = data.modalities[0]
            batch.gather(m.counts, rows: Array(0..<m.counts.rows), cells: m.cells, codes: data.categoryCodes)
            let z = Buffer<T>((0..<(batch.rows * 3)).map { T(Double($0 % 5) * 0.3 - 0.6) })
            var g = SeededGenerator(seed: 3)
            let logLikelihood = Buffer<Double>(count: batch.rows), kl = Buffer<Double>(count: batch.rows)
            for p in decoder.parameters { p.gradient.zero() }
            decoder.reconstruct(z.pointer, batch: batch, training: true, lossScale: 0.25, rowWeights: nil, klWeight: 0.7,
                                logLikelihood: logLikelihood.pointer, extraKL: kl.pointer, generator: &g)
            return (logLikelihood.array, kl.array, decoder.parameters.map { $0.gradient.array.map { Double($0) } })
        }
        let f = run(Float.self), d = run(Double.self)
        for (a, b) in zip(f.logLikelihood + f.kl, d.logLikelihood + d.kl) { #expect(abs(a - b) < 1e-4 * max(1, abs(b)), "\(a) vs \(b)") }
        for (k, (a, b)) in zip(f.gradients, d.gradients).enumerated() {
            let scale = b.map(abs).max()!  // a gradient that is 0 in exact arithmetic (a bias before batch norm) is rounding
            #expect(zip(a, b).allSatisfy { abs($0 - $1) < 1e-3 * scale + 1e-5 }, "parameter \(k): \(zip(a, b).map { abs($0 - $1) }.max()!) of \(scale)")
        }
    }

    /// Configurations written before the choice of cross-modal terms hold a Bool.
    @Test func configurationsFromBeforeTheChoiceKeepTheirTerms() throws {
        var config = ModelConfiguration(genes: 3, categoryCounts: [2])
        config.crossModalReconstruction = .rna
        let json = String(decoding: try JSONEncoder().encode(config), as: UTF8.self), field = "\"crossModalReconstruction\":"
        #expect(json.contains(field + "\"rna\""))
        for (old, expected) in [("true", CrossModalReconstruction.all), ("false", .none)] {
            let legacy = json.replacingOccurrences(of: field + "\"rna\"", with: field + old)
            #expect(try JSONDecoder().decode(ModelConfiguration.self, from: Data(legacy.utf8)).crossModal == expected)
        }
        let unknown = json.replacingOccurrences(of: field + "\"rna\"", with: field + "\"protein\"")
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(ModelConfiguration.self, from: Data(unknown.utf8)) }
    }

    /// A cell with protein has its joint term and one per modality; a cell without has one term
    /// counted twice. The decoders' rows follow the terms.
    @Test(arguments: CrossModalReconstruction.allCases)
    func batchHoldsTheMVAETerms(crossModal: CrossModalReconstruction) {
        let data = Self.data()
        let batch = ModelBatch<Float>(covariateKeys: 2, extraModalities: 1, crossModal: crossModal)
        batch.gather(data, cells: 0..<data.cells)
        let withProtein = (0..<data.cells).filter { $0 % 3 != 1 }.count
        #expect(batch.terms == data.cells + 2 * withProtein)
        #expect(batch.termWeight.prefix(data.cells).map(Double.init) == (0..<data.cells).map { $0 % 3 != 1 ? 1.0 : 2.0 })
        // Every cell's joint term reconstructs RNA, and so do RNA's own terms (and protein's, with
        // every modality cross-modal); protein is reconstructed by the joint and protein's own
        // terms (and RNA's, unless none is cross-modal).
        #expect(batch.decoderBatches[0].rows == data.cells + withProtein * (crossModal == .all ? 2 : 1))
        #expect(batch.decoderBatches[1].rows == withProtein * (crossModal == .none ? 2 : 3))
        #expect(batch.experts[0].rows == withProtein)
    }

    /// Training with protein: the same seed and threads give the same weights; the loss falls.
    @Test func trainingIsReproducibleAndLearns() throws {
        let data = Self.data(cells: 60, genes: 12, proteins: 5, categoryCounts: [2], seed: 4)
        var options = TrainingOptions(maxEpochs: 30)
        options.batchSize = 16
        options.threads = 2
        options.learningRate = 1e-2
        options.klWarmupEpochs = 3
        func train() throws -> Trainer {
            let t = try Trainer(cells: data, configuration: Self.configuration(data), options: options)
            try t.train()
            return t
        }
        let a = try train(), b = try train()
        #expect(a.model.parameters.map { $0.value.array } == b.model.parameters.map { $0.value.array })
        let losses = a.history.epochs.map(\.reconstruction)
        let first: Double = losses.prefix(5).reduce(0, +), last: Double = losses.suffix(5).reduce(0, +)
        #expect(last < 0.9 * first, "\(losses)")
        let inference = LatentInference(model: a.model, data: data)
        let joint = inference.posteriorMeans(), proteinAlone = inference.posteriorMeans(modality: 1)
        #expect(joint.values.allSatisfy { $0.isFinite })
        #expect((0..<data.cells).allSatisfy { c in (data.modalities[0].rowOfCell[c] < 0) == proteinAlone[c, 0].isNaN })
        let imputed = try #require(inference.imputedProtein(LatentPosterior(means: joint), batches: [0, 1]))
        #expect(imputed.expression.rows == data.cells && imputed.expression.values.allSatisfy { $0 >= 0 && $0.isFinite })
    }

    /// Decoded values averaged over draws from the posterior: the same seed gives the same values,
    /// the chunk size does not change them, a posterior of zero width gives the values at its
    /// means, and the draws spread around the means as the variances say.
    @Test func posteriorDrawsAreReproducibleAndFreeOfChunks() throws {
        let data = Self.data(cells: 40, genes: 12, proteins: 5, categoryCounts: [2], seed: 4)
        let config = Self.configuration(data)
        func inference(capacity: Int) -> LatentInference {
            LatentInference(model: VariationalAutoencoder<Float>(configuration: config, capacity: capacity, seed: 3), data: data)
        }
        let whole = inference(capacity: 40), chunked = inference(capacity: 7)
        let posterior = whole.posterior()
        #expect(posterior.mean.values == whole.posteriorMeans().values && posterior.variance.values.allSatisfy { $0 > 0 })
        func close(_ a: [Float], _ b: [Float], _ tolerance: Float = 1e-5) -> Bool {
            a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($0)) }
        }
        #expect(close(chunked.posterior().variance.values, posterior.variance.values))
        func imputed(_ i: LatentInference, _ p: LatentPosterior) throws -> [Float] { try #require(i.imputedProtein(p, batches: nil)).expression.values }
        let drawn = LatentPosterior(mean: posterior.mean, variance: posterior.variance, draws: 6, seed: 9)
        let once = try imputed(whole, drawn)
        #expect(try imputed(whole, drawn) == once)
        #expect(close(try imputed(chunked, drawn), once))
        #expect(try imputed(whole, LatentPosterior(mean: posterior.mean, variance: posterior.variance, draws: 6, seed: 10)) != once)
        let atMeans = try imputed(whole, LatentPosterior(means: posterior.mean))
        #expect(once != atMeans)
        #expect(close(try imputed(whole, LatentPosterior(mean: posterior.mean, variance: DenseMatrix(rows: data.cells, cols: config.latent), draws: 4)), atMeans))
        // The corrected expression averaged over draws still sums to the library size.
        let corrected = whole.correctedExpression(drawn, batches: [0, 1], librarySize: 100)
        #expect((0..<data.cells).allSatisfy { c in abs((0..<data.genes).map { corrected[c, $0] }.reduce(0, +) - 100) < 1e-3 })
        // The draws themselves: mean and variance of z over many, against the posterior's.
        let spread = LatentPosterior(mean: posterior.mean, variance: posterior.variance, draws: 4000, seed: 1)
        var sum = [Double](repeating: 0, count: posterior.mean.values.count), squares = sum
        spread.forEachLatent(chunks: [0..<data.cells]) { range, z in
            for k in 0..<(range.count * config.latent) { sum[k] += Double(z[k]); squares[k] += Double(z[k]) * Double(z[k]) }
        }
        for k in sum.indices {
            let mean = sum[k] / 4000, variance = squares[k] / 4000 - mean * mean, v = Double(posterior.variance.values[k])
            #expect(abs(mean - Double(posterior.mean.values[k])) < 5 * (v / 4000).squareRoot())
            #expect(abs(variance / v - 1) < 0.15)
        }
    }
}
