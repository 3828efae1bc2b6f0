import CellWeaveCore

/// Inference with a trained model, chunk by chunk of its capacity: posterior means of z (joint, or
/// per modality), decoded expression with the batch covariate set to chosen categories, and
/// denoised protein.
public struct LatentInference {
    public let model: VariationalAutoencoder<Float>
    public let data: TrainingData

    public init(model: VariationalAutoencoder<Float>, data: TrainingData) {
        self.model = model
        self.data = data
    }

    private var chunks: [Range<Int>] {
        stride(from: 0, to: data.cells, by: model.capacity).map { $0..<min($0 + model.capacity, data.cells) }
    }

    /// cells x latent posterior means (inference mode: running batch-norm statistics, no dropout):
    /// the joint posterior of every modality a cell has, or with `modality` (0 RNA, k the k-th
    /// further modality) that modality's alone, NaN rows for cells that lack it.
    public func posteriorMeans(modality: Int? = nil) -> DenseMatrix { posterior(modality: modality, variances: false).mean }

    /// The posterior (means and variances) of every cell, as `posteriorMeans`.
    public func posterior(modality: Int? = nil) -> LatentPosterior { posterior(modality: modality, variances: true) }

    private func posterior(modality: Int?, variances: Bool) -> LatentPosterior {
        let d = model.configuration.latent
        var mean = DenseMatrix(rows: data.cells, cols: d), variance = DenseMatrix(rows: variances ? data.cells : 0, cols: d)
        let batch = model.makeBatch(covariateKeys: data.categoryCounts.count)
        mean.values.withUnsafeMutableBufferPointer { means in
            variance.values.withUnsafeMutableBufferPointer { vars in
                for range in chunks {
                    batch.gather(data, cells: range, decoders: false)
                    model.posteriorMeans(batch, modality: modality, into: means.baseAddress! + range.lowerBound * d,
                                         variances: variances ? vars.baseAddress! + range.lowerBound * d : nil)
                }
            }
        }
        return variances ? LatentPosterior(mean: mean, variance: variance) : LatentPosterior(means: mean)
    }

    /// Covariate codes of the cells of `range` with the first covariate (the batch) set to `b`
    /// (nil: each cell's own).
    private func codes(_ range: Range<Int>, batch b: Int32?, into codes: inout [Int32]) {
        let keys = data.categoryCounts.count
        for (i, c) in range.enumerated() {
            for k in 0..<keys { codes[i * keys + k] = k == 0 ? b ?? data.categoryCodes[0][c] : data.categoryCodes[k][c] }
        }
    }

    /// The batches decoded in turn: the given ones, or each cell's own (nil).
    private func targets(_ batches: [Int32]?) -> [Int32?] { batches.map { $0.map(Optional.some) } ?? [nil] }

    /// cells x genes expression decoded from `latent` (at its means or averaged over its draws)
    /// with the first covariate (the batch) set to each of `batches` in turn and averaged (nil:
    /// each cell's own batch); the other covariates stay the cell's own. Scaled to `librarySize`
    /// counts per cell.
    public func correctedExpression(_ latent: LatentPosterior, batches: [Int32]?, librarySize: Float) -> DenseMatrix {
        let g = model.configuration.genes, keys = data.categoryCounts.count
        var out = DenseMatrix(rows: data.cells, cols: g)
        let targets = targets(batches), weight = librarySize / Float(targets.count * latent.evaluations)
        var codes = [Int32](repeating: 0, count: model.capacity * keys)
        latent.forEachLatent(chunks: chunks) { range, z in
            for b in targets {
                self.codes(range, batch: b, into: &codes)
                codes.withUnsafeBufferPointer { model.decodeProportions(z, rows: range.count, categories: $0.baseAddress, keys: keys) }
                for k in 0..<(range.count * g) { out.values[range.lowerBound * g + k] += weight * model.decoder.logits[k] }
            }
        }
        return out
    }

    /// Denoised protein (totalVI's normalised protein expression: the foreground mean times the
    /// probability of foreground) and that probability, cells x proteins, decoded from `latent`
    /// (at its means or averaged over its draws) with the batch set to each of `batches` in turn
    /// and averaged (nil: each cell's own); for every cell, measured or not.
    public func imputedProtein(_ latent: LatentPosterior, batches: [Int32]?) -> (expression: DenseMatrix, foregroundProbability: DenseMatrix)? {
        guard let decoder = model.extras.lazy.compactMap({ $0.decoder.protein }).first else { return nil }
        let p = decoder.features, keys = data.categoryCounts.count
        var expression = DenseMatrix(rows: data.cells, cols: p), probability = DenseMatrix(rows: data.cells, cols: p)
        let targets = targets(batches), weight = 1 / Float(targets.count * latent.evaluations)
        var codes = [Int32](repeating: 0, count: model.capacity * keys)
        let rowExpression = Buffer<Float>(count: model.capacity * p), rowProbability = Buffer<Float>(count: model.capacity * p)
        var unused = SeededGenerator(seed: 0)
        latent.forEachLatent(chunks: chunks) { range, z in
            for b in targets {
                self.codes(range, batch: b, into: &codes)
                codes.withUnsafeBufferPointer {
                    decoder.forward(z, rows: range.count, categories: $0.baseAddress, keys: keys, training: false, generator: &unused)
                }
                decoder.foregroundExpression(rows: range.count, into: rowExpression.pointer, probability: rowProbability.pointer)
                for k in 0..<(range.count * p) {
                    expression.values[range.lowerBound * p + k] += weight * rowExpression[k]
                    probability.values[range.lowerBound * p + k] += weight * rowProbability[k]
                }
            }
        }
        return (expression, probability)
    }
}
