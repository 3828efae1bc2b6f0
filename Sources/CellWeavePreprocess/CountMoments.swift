import CellWeaveCore

/// One pass over counts in blocks (cells in order): per batch and gene the sum and sum of
/// squares, the same over all cells, and each cell's total, in the order of operations of
/// scanpy's `_get_mean_var`, so that equal data give equal bits whole or in blocks.
struct CountMoments {
    /// Per batch, per gene: the sum of the counts (the gene's total in the batch).
    let batchSums: [[Double]]
    let batchSquares: [[Double]]
    let sums: [Double]
    let squares: [Double]
    let cellTotals: [Double]
    let sizes: [Int]

    init(blocks: CountBlocks, batch: BatchCells, genes: Int) throws {
        var batchSums = [[Double]](repeating: [Double](repeating: 0, count: genes), count: batch.count), batchSquares = batchSums
        var sums = [Double](repeating: 0, count: genes), squares = sums
        var cellTotals = [Double](repeating: 0, count: batch.code.count)
        try blocks.forEach { block, first in
            for c in 0..<block.rows {
                let b = batch.code[first + c]
                var total = 0.0
                for k in block.indptr[c]..<block.indptr[c + 1] {
                    let v = block.values[k], g = Int(block.indices[k])
                    batchSums[b][g] += Double(v)
                    batchSquares[b][g] += Double(v * v)
                    sums[g] += Double(v)
                    squares[g] += Double(v * v)
                    total += Double(v)
                }
                cellTotals[first + c] = total
            }
        }
        (self.batchSums, self.batchSquares, self.sums, self.squares, self.cellTotals, sizes) = (batchSums, batchSquares, sums, squares, cellTotals, batch.sizes)
    }

    /// Mean and n - 1 variance of each gene's counts in batch `b`.
    func batch(_ b: Int) -> ([Double], [Double]) { Self.meanAndVariance(batchSums[b], batchSquares[b], n: sizes[b]) }

    /// The same over every cell.
    var overall: ([Double], [Double]) { Self.meanAndVariance(sums, squares, n: cellTotals.count) }

    static func meanAndVariance(_ sum: [Double], _ sq: [Double], n count: Int) -> ([Double], [Double]) {
        let n = Double(count)
        let means = sum.map { $0 / n }
        let correction = count > 1 ? n / (n - 1) : 1
        return (means, sum.indices.map { g in (sq[g] / n - means[g] * means[g]) * correction })
    }
}
