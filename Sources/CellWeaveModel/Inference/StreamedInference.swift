import CellWeaveCore

/// Cells that arrive block by block (counts streamed from disk), for the stages that stream:
/// posterior means here, anomaly scores (`StreamedAnomalyScoring`); only one block's counts are in
/// memory at a time. Blocks that are multiples of the model's
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

    /// Blocks of about `rows` cells of `range` (all cells by default), rounded to whole chunks of
    /// the model's capacity from the range's start.
    public func blocks(rows: Int, of range: Range<Int>? = nil) -> [Range<Int>] {
        let size = max(model.capacity, rows / model.capacity * model.capacity), range = range ?? 0..<cells
        return stride(from: range.lowerBound, to: range.upperBound, by: size).map { $0..<min($0 + size, range.upperBound) }
    }

    /// Each block's cells as data for the model, in order. `only`: the blocks holding these cells
    /// (sorted) alone. `counts(range)`: those cells' counts in the model's genes.
    public func forEachBlock(blockRows: Int, of range: Range<Int>? = nil, only: [Int]? = nil, counts: (Range<Int>) throws -> CSRMatrix,
                             _ body: (Range<Int>, TrainingData) throws -> Void) throws {
        var next = only?.startIndex
        for block in blocks(rows: blockRows, of: range) {
            if let only, let n = next {
                guard n < only.endIndex, only[n] < block.upperBound else { continue }
                next = only[n...].firstIndex { $0 >= block.upperBound } ?? only.endIndex
            }
            try body(block, TrainingData(counts: try counts(block), codes: codes.map { Array($0[block]) }, categoryCounts: categoryCounts))
        }
    }

    /// Each block's posterior means (block cells x latent), in order, so that a stage can write
    /// them as they come instead of holding the whole embedding. `range`: those cells alone (a
    /// process's share); starting at a multiple of the capacity, it goes through the chunks of
    /// the whole.
    public func forEachPosteriorMeans(blockRows: Int, of range: Range<Int>? = nil, counts: (Range<Int>) throws -> CSRMatrix,
                                      _ body: (Range<Int>, DenseMatrix) throws -> Void) throws {
        try forEachBlock(blockRows: blockRows, of: range, counts: counts) { block, data in
            try body(block, LatentInference(model: model, data: data).posteriorMeans())
        }
    }
}
