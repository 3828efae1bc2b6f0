import CellWeaveCore

/// Analytic Pearson residuals of a negative binomial with a null model of library size times gene
/// share (Lause, Berens & Kobak 2021): mu_cg = n_c p_g, r_cg = (x_cg - mu_cg) / sqrt(mu_cg +
/// mu_cg^2 / theta), clipped to +-clip. The same as scanpy.experimental.pp.normalize_pearson_residuals.
public struct PearsonResiduals: Sendable {
    public let theta: Double
    public let clip: Double
    public let cellTotals: [Double]
    /// Gene totals over the grand total: each gene's share p_g.
    public let geneShares: [Double]

    /// - Parameters:
    ///   - clip: defaults to sqrt(number of cells), as in the paper and scanpy.
    ///   - requireIntegers: refuse values that are not counts; callers that warn instead pass false.
    public init(counts: CSRMatrix, theta: Double = 100, clip: Double? = nil, requireIntegers: Bool = true) throws {
        if requireIntegers, let v = counts.values.first(where: { $0 < 0 || $0.rounded() != $0 }) {
            throw PreprocessError.nonIntegerCounts(example: v)
        }
        try self.init(cellTotals: counts.rowSums(), geneTotals: counts.columnSums(), theta: theta, clip: clip)
    }

    /// From the totals alone (summed block by block for counts streamed from disk, cells in order).
    public init(cellTotals cells: [Double], geneTotals genes: [Double], theta: Double = 100, clip: Double? = nil) throws {
        if let first = cells.firstIndex(of: 0) { throw PreprocessError.emptyCells(count: cells.filter { $0 == 0 }.count, first: first) }
        if let first = genes.firstIndex(of: 0) { throw PreprocessError.emptyGenes(count: genes.filter { $0 == 0 }.count, first: first) }
        let total = genes.reduce(0, +)
        self.theta = theta
        self.clip = clip ?? Double(cells.count).squareRoot()
        cellTotals = cells
        geneShares = genes.map { $0 / total }
    }

    /// Writes the residuals of cells `rows` into `out` (rows.count x genes, row-major), densifying
    /// only this block. Rows are split across cores; each value is computed alone, so the result
    /// does not depend on the split. `firstCell`: the cell of `counts`' row 0 (a streamed block's).
    public func fill(_ counts: CSRMatrix, rows: Range<Int>, firstCell: Int = 0, into out: UnsafeMutableBufferPointer<Double>) {
        let g = geneShares.count
        let residual = ClippedResiduals(theta: theta, clip: clip)
        let parts = rows.count >= 256 ? 4 : 1
        counts.storage.indices.withUnsafeBufferPointer { indices in
            counts.storage.values.withUnsafeBufferPointer { values in
                geneShares.withUnsafeBufferPointer { shares in
                    ParallelLoop.run(parts: parts) { part in
                        let piece = ParallelLoop.range(part, of: parts, rows.count)
                        for c in (rows.lowerBound + piece.lowerBound)..<(rows.lowerBound + piece.upperBound) {
                            let row = out.baseAddress! + (c - rows.lowerBound) * g
                            let n = cellTotals[firstCell + c]
                            for j in 0..<g { row[j] = residual(0, n * shares[j]) }
                            for k in counts.indptr[c]..<counts.indptr[c + 1] {
                                let j = Int(indices[k])
                                row[j] = residual(Double(values[k]), n * shares[j])
                            }
                        }
                    }
                }
            }
        }
    }

    /// All residuals as a Float32 matrix (for a layer); use `fill` for large data.
    public func dense(_ counts: CSRMatrix) -> DenseMatrix {
        var block = [Double](repeating: 0, count: counts.rows * counts.cols)
        block.withUnsafeMutableBufferPointer { fill(counts, rows: 0..<counts.rows, into: $0) }
        return try! DenseMatrix(rows: counts.rows, cols: counts.cols, values: block.map { Float($0) })
    }
}
