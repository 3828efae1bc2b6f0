import CellWeaveCore
@testable import CellWeaveModel
import CellWeaveSimulation
import Testing

/// The linear decoder (LDVAE) reads as gene programs: on counts with simulated programs, each
/// program's activity is one dimension of the embedding and that dimension's loadings rank the
/// program's genes on top.
@Suite struct LinearDecoderTests {
    @Test func simulatedProgramsAreRecovered() throws {
        var simulator = CountSimulator()
        (simulator.cells, simulator.genes, simulator.programs) = (3000, 500, 3)
        let adata = try simulator.simulate(seed: 1)
        let counts = adata.x.toCSR()
        let batches = try #require(adata.obs["batch"]?.batchCodes())
        guard case let .categorical(programOfGene, _, _)? = adata.varTable["program"] else { Issue.record("no var program"); return }
        let data = TrainingData(counts: counts, codes: [batches.codes.map(Int32.init)], categoryCounts: [batches.labels.count])
        // cellweave train's defaults with --decoder linear.
        var options = TrainingOptions(maxEpochs: TrainingOptions.defaultMaxEpochs(cells: counts.rows))
        options.threads = 2
        var configuration = ModelConfiguration(genes: counts.cols, categoryCounts: [batches.labels.count])
        configuration.layers = 2
        configuration.decoder = .linear
        let trainer = try Trainer(cells: data, configuration: configuration, options: options)
        try trainer.train()
        let loadings = try #require(try GeneLoadings(trainer.model, geneNames: adata.varTable.index))
        let latent = try loadings.inAxes(LatentInference(model: trainer.model, data: data).posteriorMeans())

        var dimensions: Set<Int> = []
        for k in 1...3 {
            guard case let .numeric(activity)? = adata.obs["program\(k)_activity"] else { Issue.record("no activity \(k)"); return }
            let a = activity.doubles
            let r = (0..<latent.cols).map { d in Self.correlation(a, (0..<latent.rows).map { Double(latent[$0, d]) }) }
            let d = r.indices.max { abs(r[$0]) < abs(r[$1]) }!
            dimensions.insert(d)
            let sign: Float = r[d] < 0 ? -1 : 1
            let auroc = Self.auroc(scores: (0..<loadings.matrix.rows).map { sign * loadings.matrix[$0, d] },
                                   positives: programOfGene.map { $0 == Int32(k) })
            #expect(abs(r[d]) >= 0.8, "program \(k): |r| \(abs(r[d])) with dimension \(d + 1)")
            #expect(auroc >= 0.9, "program \(k): AUROC \(auroc) of dimension \(d + 1)'s loadings")
        }
        #expect(dimensions.count == 3, "the programs share dimensions \(dimensions)")
    }

    /// A loading is the change of a gene's logit for a unit step along its axis (inference mode:
    /// the batch norm is affine), in the model's axes and in the varimax axes alike.
    @Test func loadingsAreTheLogitResponseToTheLatent() throws {
        let data = ModelTestData.data(cells: 16, genes: 6, categoryCounts: [2], seed: 4)
        var configuration = ModelConfiguration(genes: 6, categoryCounts: [2])
        (configuration.latent, configuration.hidden, configuration.decoder) = (3, 8, .linear)
        var options = TrainingOptions(maxEpochs: 3)
        options.batchSize = 8
        let trainer = try Trainer(cells: data, configuration: configuration, options: options)
        try trainer.train()
        let model = trainer.model, names = (0..<6).map { "g\($0)" }
        for varimax in [false, true] {
            let loadings = try #require(try GeneLoadings(model, geneNames: names, varimax: varimax))
            for axis in 0..<3 {
                // Two rows of z: the origin and a unit step along the axis, back in the model's z.
                var z = [Float](repeating: 0, count: 6)
                for a in 0..<3 { z[3 + a] = loadings.rotation[a * 3 + axis] }
                let codes: [Int32] = [1, 1]
                var unused = SeededGenerator(seed: 0)
                z.withUnsafeBufferPointer { zp in
                    codes.withUnsafeBufferPointer { model.decoder.forward(zp.baseAddress!, rows: 2, categories: $0.baseAddress, keys: 1,
                                                                          training: false, generator: &unused) }
                }
                for g in 0..<6 {
                    let response = model.decoder.logits[6 + g] - model.decoder.logits[g]
                    #expect(abs(response - loadings.matrix[g, axis]) < 1e-4, "gene \(g) axis \(axis) varimax \(varimax)")
                }
            }
        }
    }

    static func correlation(_ x: [Double], _ y: [Double]) -> Double {
        let n = Double(x.count), mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (a, b) in zip(x, y) { sxy += (a - mx) * (b - my); sxx += (a - mx) * (a - mx); syy += (b - my) * (b - my) }
        return sxy / (sxx * syy).squareRoot()
    }

    /// The probability that a positive scores above a negative (ties half).
    static func auroc(scores: [Float], positives: [Bool]) -> Double {
        var wins = 0.0, pairs = 0.0
        for (s, p) in zip(scores, positives) where p {
            for (t, q) in zip(scores, positives) where !q { wins += s > t ? 1 : s == t ? 0.5 : 0; pairs += 1 }
        }
        return wins / pairs
    }
}
