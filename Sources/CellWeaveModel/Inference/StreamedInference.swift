import CellWeaveCore

/// Posterior means of cells that arrive block by block (counts streamed from disk): only one
/// block's counts and the embedding are in memory. Blocks that are multiples of the model's
/// capacity go through the same chunks as `LatentInference` over all cells, so the embedding is
/// bit-identical to the in-memory one.
public struct StreamedInference {
    public let model: VariationalAutoencoder<Float>
    /// Per covariate key, every cell's category code in the model's numbering.
    public let codes: [[Int32]]
    public let categoryCounts: [Int]

    public init(model: VariationalAutoencoder<Float>, codes: [[Int32]], categoryCounts: [Int]) {
        self.model = model
        self.codes = codes
        self.categoryCounts = categoryCounts
    }

    public var cells: Int { codes.first?.count ?? 0 }

    /// Blocks of about `rows` cells, rounded to whole chunks of the model's capacity.
    public func blocks(rows: Int) -> [Range<Int>] {
        let size = max(model.capacity, rows / model.capacity * model.capacity)
        return stride(from: 0, to: cells, by: size).map { $0..<min($0 + size, cells) }
    }

    /// `counts(range)`: those cells' counts in the model's genes.
    public func posteriorMeans(blockRows: Int, counts: (Range<Int>) throws -> CSRMatrix) throws -> DenseMatrix {
        var out = DenseMatrix(rows: cells, cols: model.configuration.latent)
        for block in blocks(rows: blockRows) {
            let data = TrainingData(counts: try counts(block), codes: codes.map { Array($0[block]) }, categoryCounts: categoryCounts)
            let means = LatentInference(model: model, data: data).posteriorMeans()
            let width = out.cols
            out.values.withUnsafeMutableBufferPointer { o in
                means.values.withUnsafeBufferPointer { m in
                    (o.baseAddress! + block.lowerBound * width).update(from: m.baseAddress!, count: m.count)
                }
            }
        }
        return out
    }
}
