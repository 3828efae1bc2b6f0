import CellWeaveCore
import Dispatch

/// Highly variable genes, with the statistics scanpy writes to var.
public struct HighlyVariableGenes: Sendable {
    public var highlyVariable: [Bool]
    /// Median rank over batches among the top genes (0 is most variable); NaN outside the top.
    public var rank: [Double]
    /// In how many batches a gene is among the top genes.
    public var nBatches: [Int]
    public var intersection: [Bool]
    public var means: [Double]
    /// Variance of the counts, with n - 1.
    public var variances: [Double]
    /// Variance of the clipped Pearson residuals, averaged over batches (pearson_residuals flavour).
    public var residualVariances: [Double]

    /// scanpy.experimental.pp.highly_variable_genes(flavor="pearson_residuals") (Lause et al. 2021):
    /// genes ranked by the variance of their clipped analytic Pearson residuals within each batch;
    /// the selection prefers genes in the top of more batches, then by median rank.
    /// - Parameters:
    ///   - batches: batch code per cell (sorted codes are processed in order), or nil for one batch.
    ///   - clip: defaults, as in scanpy, to sqrt of the first batch's cell count, for every batch.
    public static func pearsonResiduals(counts: CSRMatrix, batches: [Int]?, nTopGenes: Int, theta: Double = 100,
                                        clip: Double? = nil) throws -> HighlyVariableGenes {
        let nGenes = counts.cols
        guard nTopGenes >= 1, nTopGenes <= nGenes else { throw PreprocessError.tooManyGenesRequested(nTopGenes, available: nGenes) }
        let codes = batches ?? [Int](repeating: 0, count: counts.rows)
        let batchIDs = Array(Set(codes)).sorted()
        var clipValue = clip
        var perBatch: [[Double]] = []
        for b in batchIDs {
            let cells = codes.indices.filter { codes[$0] == b }
            let c = clipValue ?? Double(cells.count).squareRoot()
            clipValue = c
            perBatch.append(residualVariances(counts, cells: cells, theta: theta, clip: c))
        }

        // Rank 0 is the largest variance; ties keep gene order.
        var ranks = [[Double]](repeating: [Double](repeating: 0, count: nGenes), count: perBatch.count)
        for (i, v) in perBatch.enumerated() {
            let order = (0..<nGenes).sorted { v[$0] > v[$1] || (v[$0] == v[$1] && $0 < $1) }
            for (r, g) in order.enumerated() { ranks[i][g] = Double(r) }
        }
        var result = HighlyVariableGenes(highlyVariable: [], rank: [], nBatches: [], intersection: [], means: [], variances: [],
                                         residualVariances: [])
        for g in 0..<nGenes {
            let top = ranks.map { $0[g] }.filter { $0 < Double(nTopGenes) }
            result.nBatches.append(top.count)
            result.rank.append(top.isEmpty ? .nan : RobustStatistics.median(top))
            result.residualVariances.append(perBatch.map { $0[g] }.reduce(0, +) / Double(perBatch.count))
        }
        result.intersection = result.nBatches.map { $0 == batchIDs.count }
        let order = (0..<nGenes).sorted { a, b in
            if result.nBatches[a] != result.nBatches[b] { return result.nBatches[a] > result.nBatches[b] }
            let ra = result.rank[a], rb = result.rank[b]
            if ra.isNaN != rb.isNaN { return !ra.isNaN }
            if !ra.isNaN && ra != rb { return ra < rb }
            return a < b
        }
        result.highlyVariable = [Bool](repeating: false, count: nGenes)
        for g in order.prefix(nTopGenes) { result.highlyVariable[g] = true }
        (result.means, result.variances) = meanAndVariance(counts)
        return result
    }

    /// Per gene, the population variance of the clipped residuals over `cells`, with the null
    /// model fitted to those cells alone; genes without counts there get 0. Two passes per gene
    /// over the cells in order, as scanpy's kernel does, so that equal inputs give equal bits and
    /// near-ties rank the same way.
    static func residualVariances(_ counts: CSRMatrix, cells: [Int], theta: Double, clip: Double) -> [Double] {
        let nGenes = counts.cols
        let batch = (cells.count == counts.rows ? counts : (try? counts.selectingRows(cells))!).toCSC()
        let cellTotals = batch.rowSums(), geneTotals = batch.columnSums()
        let total = geneTotals.reduce(0, +)
        // scanpy multiplies the totals in the matrix's float32 before dividing in float64;
        // doing the same keeps numerically tied genes in the same order.
        let geneTotals32 = geneTotals.map { Float($0) }, cellTotals32 = cellTotals.map { Float($0) }
        let residual = ClippedResiduals(theta: theta, clip: clip)
        let n = cells.count
        var variances = [Double](repeating: 0, count: nGenes)
        variances.withUnsafeMutableBufferPointer { out in
            // Genes are independent: split them across cores without changing any sum's order.
            let parts = 8
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                var r = [Double](repeating: 0, count: n)
                r.withUnsafeMutableBufferPointer { r in
                    for g in (nGenes * part / parts)..<(nGenes * (part + 1) / parts) where geneTotals[g] > 0 {
                        // Every cell's residual once (a loop the compiler vectorises), then the
                        // two sums in cell order, as scanpy's kernel adds them.
                        let gt = geneTotals32[g]
                        for c in 0..<n { r[c] = residual(0, Double(gt * cellTotals32[c]) / total) }
                        for k in batch.indptr[g]..<batch.indptr[g + 1] {
                            let c = Int(batch.indices[k])
                            r[c] = residual(Double(batch.values[k]), Double(gt * cellTotals32[c]) / total)
                        }
                        var sum = 0.0
                        for c in 0..<n { sum += r[c] }
                        let mean = sum / Double(n)
                        var squares = 0.0
                        for c in 0..<n { squares += (r[c] - mean) * (r[c] - mean) }
                        out[g] = squares / Double(n)
                    }
                }
            }
        }
        return variances
    }

    /// Mean and n - 1 variance of each gene's counts over all cells.
    static func meanAndVariance(_ counts: CSRMatrix) -> ([Double], [Double]) {
        let n = Double(counts.rows)
        var sum = [Double](repeating: 0, count: counts.cols), sq = sum
        for k in 0..<counts.nnz {
            let v = Double(counts.values[k]), g = Int(counts.indices[k])
            sum[g] += v
            sq[g] += v * v
        }
        let means = sum.map { $0 / n }
        let variances = (0..<counts.cols).map { g in (sq[g] - n * means[g] * means[g]) / (n - 1) }
        return (means, variances)
    }
}

/// (x - mu) / sqrt(mu + mu^2 / theta), clipped to +-clip.
struct ClippedResiduals {
    let theta: Double
    let clip: Double

    @inline(__always)
    func callAsFunction(_ x: Double, _ mu: Double) -> Double {
        min(max((x - mu) / (mu + mu * mu / theta).squareRoot(), -clip), clip)
    }
}
