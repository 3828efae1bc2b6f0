import CellWeaveCore

/// Places cells from covariate categories a model has not seen, as scArches does: the model is
/// extended with the new categories (their covariate weights, their dispersions with gene-batch
/// dispersion, and their protein background prior) and only those are trained, on the new
/// categories' cells, with every other weight and the batch-norm statistics frozen. A sample's
/// batch effect is absorbed by its own covariate weights, while the shared weights cannot learn a
/// rare aberrant program. Cells with or without protein map alike: each has the terms it has.
public struct QueryMapping {
    public var epochs = 100
    public var batchSize = 128
    public var learningRate = 1e-3
    public var seed: UInt64 = 0
    public var threads = 1

    public init() {}

    /// The extended model, built for `capacity` cells at a time (at least a minibatch).
    /// `newCounts[k]` >= the model's categories of key k; categories beyond the model's are new.
    /// `data` codes use the extended numbering.
    public func extend(_ model: VariationalAutoencoder<Float>, newCounts: [Int], data: TrainingData,
                       capacity: Int = 0) throws -> VariationalAutoencoder<Float> {
        let old = model.configuration
        precondition(newCounts.count == old.categoryCounts.count && zip(newCounts, old.categoryCounts).allSatisfy(>=))
        var config = old
        config.categoryCounts = newCounts
        let extended = VariationalAutoencoder<Float>(configuration: config, capacity: max(capacity, batchSize), threads: threads, seed: seed)
        let oldOffsets = Self.offsets(old.categoryCounts), newOffsets = Self.offsets(newCounts)
        var tensors: [NamedTensor] = []
        for t in model.tensors {
            if t.name.hasSuffix(".covariate_weight") {
                tensors.append(Self.remapRows(t, width: t.shape[1], counts: old.categoryCounts, newCounts: newCounts,
                                              oldOffsets: oldOffsets, newOffsets: newOffsets))
            } else if Self.perBatchRows(t.name, old) {
                tensors.append(Self.remapRows(t, width: t.shape[1], counts: [old.categoryCounts[0]], newCounts: [newCounts[0]],
                                              oldOffsets: [0], newOffsets: [0]))
            } else {
                tensors.append(t)
            }
        }
        try extended.load(tensors)
        let trainable = extended.parameters.filter { $0.name.hasSuffix(".covariate_weight") || Self.perBatchRows($0.name, old) }
        let cells = (0..<data.cells).filter { c in (0..<newCounts.count).contains { k in Int(data.categoryCodes[k][c]) - newOffsets[k] >= old.categoryCounts[k] } }
        guard !cells.isEmpty, !trainable.isEmpty else { return extended }
        // Rows of the categories the model knew keep their values: their gradients are zeroed, and
        // without weight decay Adam then leaves them exactly as they were.
        let frozenRows: [String: [Range<Int>]] = Dictionary(uniqueKeysWithValues: trainable.map { p in
            let ranges = Self.perBatchRows(p.name, old) ? [0..<old.categoryCounts[0]]
                : (0..<newCounts.count).map { k in newOffsets[k]..<(newOffsets[k] + old.categoryCounts[k]) }
            return (p.name, ranges)
        })
        let adam = Adam(parameters: trainable, learningRate: learningRate, weightDecay: 0, parts: threads)
        var generator = SeededGenerator(seed: seed &+ 3), order = cells
        let batch = extended.makeBatch(covariateKeys: newCounts.count)
        for _ in 0..<epochs {
            Trainer.shuffle(&order, &generator)
            for start in stride(from: 0, to: order.count, by: batchSize) {
                batch.gather(data, cells: order[start..<min(start + batchSize, order.count)])
                let loss = extended.step(batch, klWeight: 1, training: false, gradients: true, generator: &generator)
                guard loss.reconstruction.isFinite else { throw TrainingError.nonFinite(epoch: 0, step: 0, what: "the query-mapping loss") }
                for p in trainable {
                    let width = p.shape[1]
                    for rows in frozenRows[p.name]! { (p.gradient.pointer + rows.lowerBound * width).update(repeating: 0, count: rows.count * width) }
                }
                adam.step()
            }
        }
        return extended
    }

    static func offsets(_ counts: [Int]) -> [Int] { counts.indices.map { counts[..<$0].reduce(0, +) } }

    /// Tensors with one row per batch (the first covariate's categories): gene-batch inverse
    /// dispersions and the protein background prior.
    static func perBatchRows(_ name: String, _ c: ModelConfiguration) -> Bool {
        (name == "log_theta" && c.dispersion == .geneBatch) || name == "protein.prior_mean" || name == "protein.prior_log_scale"
    }

    /// Rows of each key moved to their place in the extended layout; a new category's row starts
    /// as the mean of its key's known rows (an average batch).
    static func remapRows(_ t: NamedTensor, width: Int, counts: [Int], newCounts: [Int], oldOffsets: [Int], newOffsets: [Int]) -> NamedTensor {
        var values = [Float](repeating: 0, count: newCounts.reduce(0, +) * width)
        for k in counts.indices {
            var mean = [Float](repeating: 0, count: width)
            for c in 0..<counts[k] {
                for h in 0..<width {
                    let v = t.values[(oldOffsets[k] + c) * width + h]
                    values[(newOffsets[k] + c) * width + h] = v
                    mean[h] += v / Float(counts[k])
                }
            }
            for c in counts[k]..<newCounts[k] { for h in 0..<width { values[(newOffsets[k] + c) * width + h] = mean[h] } }
        }
        return NamedTensor(name: t.name, shape: [newCounts.reduce(0, +), width], values: values)
    }
}
