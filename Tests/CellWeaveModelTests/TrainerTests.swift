import CellWeaveCore
@testable import CellWeaveModel
import Testing

@Suite struct TrainerTests {
    let data = ModelTestData.data(cells: 90, genes: 24, categoryCounts: [3], seed: 21)

    func makeTrainer(epochs: Int, threads: Int = 2, configure: (inout TrainingOptions) -> Void = { _ in }) throws -> Trainer {
        var config = ModelConfiguration(genes: 24, categoryCounts: [3])
        config.hidden = 16
        config.latent = 4
        var options = TrainingOptions(maxEpochs: epochs)
        options.batchSize = 16
        options.klWarmupEpochs = 3
        options.threads = threads
        options.seed = 7
        configure(&options)
        return try Trainer(cells: data, configuration: config, options: options)
    }

    func weights(_ t: Trainer) -> [[Float]] { t.model.tensors.map(\.values) }

    @Test func splitHoldsOutTenPercent() throws {
        let t = try makeTrainer(epochs: 1)
        #expect(t.validationCells.count == 9 && t.trainCells.count == 81)
        #expect(Set(t.validationCells).isDisjoint(with: t.trainCells))
        // The last minibatch of 81 cells in 16s is 1 cell: it joins the one before.
        #expect(t.minibatches(81).map(\.count) == [16, 16, 16, 16, 17])
    }

    @Test func sameSeedGivesBitIdenticalWeights() throws {
        let a = try makeTrainer(epochs: 3), b = try makeTrainer(epochs: 3)
        try a.train(); try b.train()
        #expect(weights(a) == weights(b))
        #expect(a.history.epochs.map(\.loss) == b.history.epochs.map(\.loss))
        let other = try makeTrainer(epochs: 3) { $0.seed = 8 }
        try other.train()
        #expect(weights(other) != weights(a))
    }

    @Test func lossFallsAndKLWarmsUp() throws {
        let t = try makeTrainer(epochs: 12) { $0.learningRate = 0.01 }
        try t.train()
        let h = t.history.epochs
        #expect(h.map(\.klWeight).prefix(4) == [0, 1.0 / 3, 2.0 / 3, 1])
        #expect(h.last!.reconstruction < 0.95 * h.first!.reconstruction)
        #expect(h.allSatisfy { $0.validationELBO?.isFinite == true })
    }

    /// Two epochs, a checkpoint, and two more in a new trainer equal four epochs in one go.
    @Test func resumeContinuesBitIdentically() throws {
        let straight = try makeTrainer(epochs: 4)
        try straight.train()
        let first = try makeTrainer(epochs: 2)
        try first.train()
        let resumed = try makeTrainer(epochs: 4)
        try resumed.restore(first.checkpoint())
        #expect(resumed.completedEpochs == 2)
        try resumed.train()
        #expect(weights(resumed) == weights(straight))
        #expect(resumed.history.epochs.map(\.loss) == straight.history.epochs.map(\.loss))
    }

    @Test func checkpointOfAnotherArchitectureIsRefused() throws {
        let a = try makeTrainer(epochs: 1)
        var config = ModelConfiguration(genes: 24, categoryCounts: [3])
        config.hidden = 8
        let b = try Trainer(cells: data, configuration: config, options: a.options)
        #expect(throws: TrainingError.self) { try b.restore(a.checkpoint()) }
    }

    @Test func earlyStoppingStopsWhenValidationStalls() throws {
        let t = try makeTrainer(epochs: 50) {
            $0.earlyStopping = true
            $0.earlyStoppingPatience = 2
            $0.earlyStoppingMinDelta = 1e9  // nothing counts as an improvement after the first epoch
        }
        try t.train()
        #expect(t.history.stoppedEarly && t.completedEpochs == 3 && t.history.bestEpoch == 1)
    }

    @Test func nonFiniteLossStopsWithAClearError() throws {
        let t = try makeTrainer(epochs: 2)
        t.model.parameters.first { $0.name == "decoder.scale.bias" }!.value[0] = .nan
        #expect(throws: TrainingError.nonFinite(epoch: 1, step: 1, what: "the loss")) { try t.runEpoch() }
    }

    /// The Float path (vectorised exp/log, SIMD loops) agrees with the Double path it was checked by.
    @Test func floatLikelihoodAgreesWithDouble() {
        let genes = 24, rows = data.cells
        let bf = ModelTestData.batch(data, Float.self), bd = ModelTestData.batch(data, Double.self)
        var rng = SeededGenerator(seed: 3)
        let logits = (0..<(rows * genes)).map { _ in rng.nextGaussian() }, logTheta = (0..<genes).map { _ in rng.nextGaussian() }
        func run<T: ModelScalar>(_ batch: SparseBatch<T>) -> (Double, [T], [T]) {
            let z = Buffer<T>(logits.map { T($0) }), lt = Buffer<T>(logTheta.map { T($0) })
            let dz = Buffer<T>(count: rows * genes), dt = Buffer<T>(count: genes), ll = Buffer<Double>(count: rows)
            CountLikelihood.nb.minibatch(batch, logits: z.pointer, dropoutLogits: nil, logTheta: lt.pointer, dispersion: .gene,
                                         gradientScale: 1, logitGradient: dz.pointer, dropoutGradient: nil, logThetaGradient: dt.pointer,
                                         rowLogLikelihood: ll.pointer, workspace: LikelihoodWorkspace(genes: genes, dispersionRows: 1, parts: 2))
            return ((0..<rows).reduce(0) { $0 + ll[$1] }, dz.array, dt.array)
        }
        let (lf, dzf, dtf) = run(bf), (ld, dzd, dtd) = run(bd)
        #expect(abs(lf - ld) < 1e-5 * abs(ld))
        for k in dzd.indices { #expect(abs(Double(dzf[k]) - dzd[k]) < 1e-4 * max(1, abs(dzd[k]))) }
        for k in dtd.indices { #expect(abs(Double(dtf[k]) - dtd[k]) < 1e-4 * max(1, abs(dtd[k]))) }
    }
}
