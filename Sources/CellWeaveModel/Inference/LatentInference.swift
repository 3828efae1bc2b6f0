import CellWeaveCore

/// Inference with a trained model, chunk by chunk of its capacity: posterior means of z and
/// decoded expression with the batch covariate set to chosen categories.
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

    /// cells x latent posterior means (inference mode: running batch-norm statistics, no dropout).
    public func posteriorMeans() -> DenseMatrix {
        let d = model.configuration.latent
        var out = DenseMatrix(rows: data.cells, cols: d)
        let batch = SparseBatch<Float>(covariateKeys: data.categoryCounts.count)
        for range in chunks {
            batch.gather(data, cells: range)
            model.encodeMeans(batch)
            for k in 0..<(range.count * d) { out.values[range.lowerBound * d + k] = model.encoder.mean[k] }
        }
        return out
    }

    /// cells x genes expression decoded from `latent` (rows of posterior means) with the first
    /// covariate (the batch) set to each of `batches` in turn and averaged; the other covariates
    /// stay the cell's own. Scaled to `librarySize` counts per cell.
    public func correctedExpression(_ latent: DenseMatrix, batches: [Int32], librarySize: Float) -> DenseMatrix {
        let g = model.configuration.genes, d = model.configuration.latent, keys = data.categoryCounts.count
        var out = DenseMatrix(rows: data.cells, cols: g)
        let weight = librarySize / Float(max(batches.count, 1))
        var codes = [Int32](repeating: 0, count: model.capacity * keys)
        for range in chunks {
            for b in batches {
                for (i, c) in range.enumerated() {
                    for k in 0..<keys { codes[i * keys + k] = k == 0 ? b : data.categoryCodes[k][c] }
                }
                latent.values.withUnsafeBufferPointer { z in
                    codes.withUnsafeBufferPointer { model.decodeProportions(z.baseAddress! + range.lowerBound * d, rows: range.count,
                                                                             categories: $0.baseAddress, keys: keys) }
                }
                for k in 0..<(range.count * g) { out.values[range.lowerBound * g + k] += weight * model.decoder.logits[k] }
            }
        }
        return out
    }
}
