import CellWeaveCore
import Foundation

/// Trains the VAE on CSR counts: a seeded train/validation split, shuffled minibatches gathered
/// straight from CSR, KL warm-up, Adam, optional gradient clipping and early stopping on the
/// validation ELBO. The counts are in memory or streamed from disk (`TrainingCells`). The same
/// seed, data and thread count give bit-identical weights.
///
/// Data-parallel (a `ProcessGroup`): every process runs this trainer with the same seed over its
/// share of the cells (`CellShare`), visits the same global minibatches, steps on an even share of
/// each (`MinibatchBalance`), and sums batch statistics, gradients and losses with the others
/// (gradients and Adam's update through a machine's shared memory, `ShardedUpdate`, where the
/// group has it), so N processes train the weights one does, up to the order of summation.
public final class Trainer {
    public let source: any TrainingCells
    public let options: TrainingOptions
    public let model: VariationalAutoencoder<Float>
    public let optimizer: Adam<Float>
    public let trainCells: [Int]
    public let validationCells: [Int]
    public private(set) var history = TrainingHistory()
    private var generator: SeededGenerator
    private var epochsWithoutImprovement = 0
    private let batch: ModelBatch<Float>
    public let processGroup: (any ProcessGroup)?
    /// Which cells of each global minibatch this process computes (data-parallel training).
    private let balance: MinibatchBalance?
    /// Every gradient in one buffer, summed across the processes in one call (when the group
    /// cannot share memory on a machine).
    private lazy var gradientSums = Buffer<Float>(count: model.parameters.reduce(0) { $0 + $1.count })
    /// Gradient sums and Adam's update through memory the processes of a machine share, nil where
    /// the group has none. Set up by the first step's gradient sum (a collective call, which every
    /// process makes at once), so after a checkpoint's weights are restored.
    private lazy var sharedUpdate: ShardedUpdate? = processGroup.flatMap { ShardedUpdate.make(optimizer: optimizer, group: $0) }
    private let lossSums = Buffer<Double>(count: 3)

    public init(cells source: any TrainingCells, configuration: ModelConfiguration, options: TrainingOptions,
                processGroup: (any ProcessGroup)? = nil) throws {
        guard source.cells >= 3 else { throw TrainingError.tooFewCells(cells: source.cells, needed: 3) }
        if processGroup != nil && !configuration.extraModalities.isEmpty { throw TrainingError.distributedModalities }
        self.source = source
        // A group of one process sums nothing.
        self.processGroup = processGroup.flatMap { $0.size > 1 ? $0 : nil }
        self.options = options
        (trainCells, validationCells) = source.split(trainFraction: options.trainFraction, seed: options.seed)
        model = VariationalAutoencoder(configuration: configuration, capacity: options.batchSize + 2,
                                       threads: options.threads, seed: options.seed &+ 1)
        optimizer = Adam(parameters: model.parameters, learningRate: options.learningRate,
                         weightDecay: options.weightDecay, epsilon: options.adamEpsilon, parts: options.threads)
        generator = SeededGenerator(seed: options.seed &+ 2)
        batch = model.makeBatch(covariateKeys: source.covariateKeys)
        source.initialise(model, seed: options.seed &+ 4)
        for norm in model.batchNorms { norm.processGroup = self.processGroup }
        balance = self.processGroup.map { MinibatchBalance(group: $0, genes: configuration.genes, covariateKeys: source.covariateKeys) }
    }

    /// totalVI's empirical background prior for panels of more than 10 proteins; smaller panels keep
    /// its fixed initialisation (mean 3, scale 1).
    static func initialiseProteinBackground(_ model: VariationalAutoencoder<Float>, data: TrainingData, seed: UInt64) {
        for (e, modality) in zip(model.extras, data.modalities) {
            guard let decoder = e.decoder.protein, modality.counts.cols > 10 else { continue }
            let batchOfRow = modality.cells.map { Int(data.categoryCodes[0][$0]) }
            let prior = ProteinBackgroundPrior.estimate(modality.counts, batchOfRow: batchOfRow, batches: data.categoryCounts[0], seed: seed)
            decoder.setBackgroundPrior(mean: prior.mean, scale: prior.scale)
        }
    }

    public var completedEpochs: Int { history.epochs.count }
    public var isFinished: Bool { completedEpochs >= options.maxEpochs || history.stoppedEarly }

    /// Fisher-Yates with our own generator, so the order never depends on the standard library.
    static func shuffle(_ a: inout [Int], _ g: inout SeededGenerator) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            a.swapAt(i, Int(g.next() % UInt64(i + 1)))
        }
    }

    /// Minibatch boundaries over n cells; a remainder under 3 cells (too few for batch statistics)
    /// joins the previous batch.
    func minibatches(_ n: Int) -> [Range<Int>] {
        var ranges = stride(from: 0, to: n, by: options.batchSize).map { $0..<min($0 + options.batchSize, n) }
        if ranges.count > 1, let last = ranges.last, last.count < 3 {
            ranges.removeLast()
            ranges[ranges.count - 1] = ranges[ranges.count - 1].lowerBound..<n
        }
        return ranges
    }

    @discardableResult
    public func runEpoch() throws -> EpochRecord {
        let epoch = completedEpochs, klWeight = options.klWeight(epoch: epoch)
        let start = Date()
        var gatherTime = 0.0, stepTime = 0.0, optimizerTime = 0.0, waitTime = 0.0, sumTime = 0.0
        var total = MinibatchLoss()
        var step = 0, windowEnd = Date()
        try source.forEachTrainingWindow(trainCells, generator: &generator) { data, order, generator in
            waitTime += -windowEnd.timeIntervalSinceNow
            for range in minibatches(order.count) {
                step += 1
                var t = Date()
                gather(data, order[range])
                gatherTime += -t.timeIntervalSinceNow
                t = Date()
                // Adam leaves the gradients zero, and they start so.
                var loss = model.step(batch, klWeight: klWeight, training: true, gradients: true, gradientsAreZero: true, generator: &generator)
                stepTime += -t.timeIntervalSinceNow
                t = Date()
                let local = loss
                if processGroup != nil {
                    sumGradients()
                    loss = sum(loss)  // every process sees the same loss, so all stop together
                    sumTime += -t.timeIntervalSinceNow
                    t = Date()
                }
                guard loss.reconstruction.isFinite, loss.kl.isFinite else {
                    throw TrainingError.nonFinite(epoch: epoch + 1, step: step, what: "the loss")
                }
                // The norm costs a pass over every gradient, so it is taken only to clip; a gradient that
                // overflows without the loss doing so makes the next step's loss non-finite.
                if let clip = options.gradientClipNorm {
                    let norm = sharedUpdate?.gradientNorm() ?? optimizer.gradientNorm()
                    guard norm.isFinite else { throw TrainingError.nonFinite(epoch: epoch + 1, step: step, what: "the gradient") }
                    if let sharedUpdate { sharedUpdate.step(clipNorm: clip, norm: norm) } else { optimizer.step(clipNorm: clip, norm: norm) }
                } else {
                    if let sharedUpdate { sharedUpdate.step() } else { optimizer.step() }
                }
                optimizerTime += -t.timeIntervalSinceNow
                total += local
            }
            windowEnd = Date()
        }
        var phases = ["gather": gatherTime, "forward_backward": stepTime, "optimizer": optimizerTime]
        // Time spent waiting for a streamed window's counts (the read-ahead fell behind).
        if source.readsAhead { phases["read_wait"] = waitTime }
        if processGroup != nil {
            // Summing gradients and losses across processes, waiting for the slowest included (the
            // batch norms' sums are in forward_backward).
            phases["allreduce"] = sumTime
            total = sum(total)
        }
        let n = Double(total.cells)
        var record = EpochRecord(epoch: epoch + 1, loss: (total.reconstruction + klWeight * total.kl) / n,
                                 reconstruction: total.reconstruction / n, kl: total.kl / n, klWeight: klWeight,
                                 validationELBO: nil, validationReconstruction: nil, seconds: 0,
                                 phaseSeconds: phases)
        if !validationCells.isEmpty {
            let v = try evaluate(validationCells)
            guard v.elbo.isFinite else { throw TrainingError.nonFinite(epoch: epoch + 1, step: 0, what: "the validation ELBO") }
            record.validationELBO = v.elbo
            record.validationReconstruction = v.reconstruction / Double(v.cells)
            updateEarlyStopping(v.elbo, epoch: epoch + 1)
        }
        record.seconds = -start.timeIntervalSinceNow
        history.epochs.append(record)
        return record
    }

    /// Losses of the given cells in inference mode (running statistics, no dropout), KL at weight 1.
    public func evaluate(_ cells: [Int]) throws -> MinibatchLoss {
        var total = MinibatchLoss()
        try source.forEachWindow(cells) { data, cells in
            for range in stride(from: 0, to: cells.count, by: model.capacity).map({ $0..<min($0 + model.capacity, cells.count) }) {
                gather(data, cells[range])
                total += model.step(batch, klWeight: 1, training: false, gradients: false, generator: &generator)
            }
        }
        return processGroup == nil ? total : sum(total)
    }

    /// Gathers a minibatch: all of it, or in data-parallel training this process's even part of it
    /// (`MinibatchBalance`) with their positions in the global minibatch.
    private func gather(_ data: TrainingData, _ cells: ArraySlice<Int>) {
        guard let balance else { return batch.gather(data, cells: cells) }
        batch.rna.share = nil  // releases the positions' storage, so refilling it allocates nothing
        balance.split(cells, data: data)
        batch.gather(data, cells: balance.kept)
        if balance.positions.count > balance.kept.count { batch.appendRNA(balance.received, codes: balance.codes) }
        batch.rna.share = MinibatchShare(cells: cells.count, positions: balance.positions, rowsByPosition: balance.rowsByPosition)
    }

    /// Each gradient becomes its sum over the processes (each is already scaled by the global
    /// minibatch), through one buffer.
    private func sumGradients() {
        guard let processGroup else { return }
        if let sharedUpdate { return sharedUpdate.sumGradients() }
        var offset = 0
        for p in optimizer.parameters {
            (gradientSums.pointer + offset).update(from: p.gradient.pointer, count: p.count)
            offset += p.count
        }
        processGroup.sum(gradientSums.pointer, count: offset)
        offset = 0
        for p in optimizer.parameters {
            p.gradient.pointer.update(from: gradientSums.pointer + offset, count: p.count)
            offset += p.count
        }
    }

    private func sum(_ loss: MinibatchLoss) -> MinibatchLoss {
        let values = lossSums.pointer
        (values[0], values[1], values[2]) = (loss.reconstruction, loss.kl, Double(loss.cells))
        processGroup?.sum(values, count: 3)
        var total = MinibatchLoss()
        (total.reconstruction, total.kl, total.cells) = (values[0], values[1], Int(values[2]))
        return total
    }

    private func updateEarlyStopping(_ elbo: Double, epoch: Int) {
        if let best = history.bestValidationELBO, elbo >= best - options.earlyStoppingMinDelta {
            epochsWithoutImprovement += 1
        } else {
            history.bestValidationELBO = elbo
            history.bestEpoch = epoch
            epochsWithoutImprovement = 0
        }
        if options.earlyStopping && epochsWithoutImprovement >= options.earlyStoppingPatience { history.stoppedEarly = true }
    }

    /// Trains until max epochs or early stopping; `afterEpoch` sees each record (progress, checkpoints).
    public func train(afterEpoch: (EpochRecord) throws -> Void = { _ in }) throws {
        while !isFinished { try afterEpoch(try runEpoch()) }
    }

    public func checkpoint() -> TrainingCheckpoint {
        let adam = optimizer.state
        var tensors = model.tensors
        for (p, parameter) in optimizer.parameters.enumerated() {
            tensors.append(NamedTensor(name: "adam.m." + parameter.name, shape: parameter.shape, values: adam.first[p]))
            tensors.append(NamedTensor(name: "adam.v." + parameter.name, shape: parameter.shape, values: adam.second[p]))
        }
        return TrainingCheckpoint(tensors: tensors, state: .init(
            optimizerSteps: adam.steps, generator: generator.stateWords, epochsWithoutImprovement: epochsWithoutImprovement,
            history: history, options: options, configuration: model.configuration))
    }

    /// Continues from a checkpoint of the same configuration, options and data split.
    public func restore(_ c: TrainingCheckpoint) throws {
        guard c.state.configuration == model.configuration else { throw TrainingError.checkpointMismatch("the architecture differs") }
        // Epochs, early stopping and threads may change on resume; the rest defines the run.
        var saved = c.state.options, current = options
        (saved.maxEpochs, saved.earlyStopping, saved.earlyStoppingPatience, saved.threads) = (0, false, 0, 0)
        (current.maxEpochs, current.earlyStopping, current.earlyStoppingPatience, current.threads) = (0, false, 0, 0)
        guard saved == current else {
            throw TrainingError.checkpointMismatch("the training options differ (only --max-epochs, early stopping and --threads may change)")
        }
        try model.load(c.tensors)
        let byName = Dictionary(c.tensors.map { ($0.name, $0.values) }, uniquingKeysWith: { a, _ in a })
        var first: [[Float]] = [], second: [[Float]] = []
        for p in optimizer.parameters {
            guard let m = byName["adam.m." + p.name], let v = byName["adam.v." + p.name], m.count == p.count, v.count == p.count else {
                throw TrainingError.checkpointMismatch("Adam's state for \(p.name) is missing")
            }
            first.append(m); second.append(v)
        }
        optimizer.restore(steps: c.state.optimizerSteps, first: first, second: second)
        generator = SeededGenerator(stateWords: c.state.generator)
        epochsWithoutImprovement = c.state.epochsWithoutImprovement
        history = c.state.history
        history.stoppedEarly = false
    }
}
