import CellWeaveCore
import RealModule

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
    /// The flavour's per-gene statistic averaged over batches: the variance of the clipped Pearson
    /// residuals (pearson_residuals, var residual_variances) or the standardised variance
    /// (seurat_v3, var variances_norm).
    public var statistic: [Double]

    /// scanpy.experimental.pp.highly_variable_genes(flavor="pearson_residuals") (Lause et al. 2021):
    /// genes ranked by the variance of their clipped analytic Pearson residuals within each batch;
    /// the selection prefers genes in the top of more batches, then by median rank.
    /// - Parameters:
    ///   - batches: batch code per cell (sorted codes are processed in order), or nil for one batch.
    ///   - clip: defaults, as in scanpy, to sqrt of the first batch's cell count, for every batch.
    public static func pearsonResiduals(counts: CSRMatrix, batches: [Int]?, nTopGenes: Int, theta: Double = 100,
                                        clip: Double? = nil) throws -> HighlyVariableGenes {
        let nGenes = counts.cols
        let batchCells = try cellsByBatch(counts, batches, nTopGenes: nTopGenes)
        var clipValue = clip
        var perBatch: [[Double]] = []
        for cells in batchCells {
            let c = clipValue ?? Double(cells.count).squareRoot()
            clipValue = c
            perBatch.append(residualVariances(counts, cells: cells, theta: theta, clip: c))
        }

        var result = rankAcrossBatches(perBatch, nTopGenes: nTopGenes)
        result.statistic = (0..<nGenes).map { g in perBatch.reduce(0) { $0 + $1[g] } / Double(perBatch.count) }
        result.intersection = result.nBatches.map { $0 == batchCells.count }
        let order = (0..<nGenes).sorted { a, b in
            if result.nBatches[a] != result.nBatches[b] { return result.nBatches[a] > result.nBatches[b] }
            let ra = result.rank[a], rb = result.rank[b]
            if ra.isNaN != rb.isNaN { return !ra.isNaN }
            if !ra.isNaN && ra != rb { return ra < rb }
            return a < b
        }
        result.select(order.prefix(nTopGenes), of: nGenes)
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
            ParallelLoop.run(parts: parts) { part in
                var r = [Double](repeating: 0, count: n)
                r.withUnsafeMutableBufferPointer { r in
                    for g in ParallelLoop.range(part, of: parts, nGenes) where geneTotals[g] > 0 {
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

    /// Mean and n - 1 variance of each gene's counts over `cells` (all by default), in the
    /// order of operations of scanpy's `_get_mean_var`, so that equal data give equal bits.
    static func meanAndVariance(_ counts: CSRMatrix, cells: [Int]? = nil) -> ([Double], [Double]) {
        let rows = cells ?? Array(0..<counts.rows)
        let n = Double(rows.count)
        var sum = [Double](repeating: 0, count: counts.cols), sq = sum
        for c in rows {
            for k in counts.indptr[c]..<counts.indptr[c + 1] {
                let v = counts.values[k], g = Int(counts.indices[k])
                sum[g] += Double(v)
                sq[g] += Double(v * v)
            }
        }
        let means = sum.map { $0 / n }
        let correction = rows.count > 1 ? n / (n - 1) : 1
        let variances = (0..<counts.cols).map { g in (sq[g] / n - means[g] * means[g]) * correction }
        return (means, variances)
    }

    /// scanpy.pp.highly_variable_genes(flavor="seurat_v3") (Stuart et al. 2019): per batch, a LOESS
    /// of log variance on log mean gives each gene's expected standard deviation; counts clipped at
    /// mean + sqrt(n) sd give the standardised variance; genes are ranked by it within batches and
    /// selected by median rank, then by the number of batches that rank them in the top.
    public static func seuratV3(counts: CSRMatrix, batches: [Int]?, nTopGenes: Int, span: Double = 0.3) throws -> HighlyVariableGenes {
        let nGenes = counts.cols
        let batchCells = try cellsByBatch(counts, batches, nTopGenes: nTopGenes)
        var normalised: [[Double]] = []
        for cells in batchCells {
            let (mean, variance) = meanAndVariance(counts, cells: cells)
            let varying = (0..<nGenes).filter { variance[$0] > 0 }
            var expected = [Double](repeating: 0, count: nGenes)
            let fitted = Loess(span: span, degree: 2).fit(x: varying.map { Double.log10(mean[$0]) }, y: varying.map { Double.log10(variance[$0]) })
            for (i, g) in varying.enumerated() { expected[g] = fitted[i] }
            let sd = expected.map { Double.pow(10, $0).squareRoot() }
            let n = Double(cells.count)
            let clip = (0..<nGenes).map { sd[$0] * n.squareRoot() + mean[$0] }
            var sum = [Double](repeating: 0, count: nGenes), sq = sum
            for c in cells {
                for k in counts.indptr[c]..<counts.indptr[c + 1] {
                    let g = Int(counts.indices[k])
                    let x = min(Double(counts.values[k]), clip[g])
                    sq[g] += x * x
                    sum[g] += x
                }
            }
            normalised.append((0..<nGenes).map { g in
                (1 / ((n - 1) * (sd[g] * sd[g]))) * ((n * (mean[g] * mean[g])) + sq[g] - 2 * sum[g] * mean[g])
            })
        }
        var result = rankAcrossBatches(normalised, nTopGenes: nTopGenes)
        result.statistic = (0..<nGenes).map { g in normalised.reduce(0) { $0 + $1[g] } / Double(normalised.count) }
        result.intersection = result.nBatches.map { $0 == batchCells.count }
        // seurat_v3 orders by median rank first, then by the number of batches.
        let order = (0..<nGenes).sorted { a, b in
            let ra = result.rank[a], rb = result.rank[b]
            if ra.isNaN != rb.isNaN { return !ra.isNaN }
            if !ra.isNaN && ra != rb { return ra < rb }
            if result.nBatches[a] != result.nBatches[b] { return result.nBatches[a] > result.nBatches[b] }
            return a < b
        }
        result.select(order.prefix(nTopGenes), of: nGenes)
        (result.means, result.variances) = meanAndVariance(counts)
        return result
    }

    /// The cells of each batch, batches in the order of their sorted codes (as numpy's unique);
    /// checks what every flavour needs.
    static func cellsByBatch(_ counts: CSRMatrix, _ batches: [Int]?, nTopGenes: Int) throws -> [[Int]] {
        guard nTopGenes >= 1, nTopGenes <= counts.cols else { throw PreprocessError.tooManyGenesRequested(nTopGenes, available: counts.cols) }
        let codes = batches ?? [Int](repeating: 0, count: counts.rows)
        let cells = Dictionary(grouping: codes.indices, by: { codes[$0] }).sorted { $0.key < $1.key }.map(\.value)
        // A variance needs two cells in every batch.
        if let smallest = cells.map(\.count).min(), smallest < 2 { throw PreprocessError.tooFewCells(smallest, needed: 2) }
        return cells
    }

    mutating func select<S: Sequence>(_ genes: S, of count: Int) where S.Element == Int {
        highlyVariable = [Bool](repeating: false, count: count)
        for g in genes { highlyVariable[g] = true }
    }

    /// Ranks genes within each batch (0 = largest statistic; ties keep gene order), then gives
    /// each gene its number of top-n batches and its median rank among them.
    static func rankAcrossBatches(_ statistic: [[Double]], nTopGenes: Int) -> HighlyVariableGenes {
        let nGenes = statistic.first?.count ?? 0
        var ranks = [[Double]](repeating: [Double](repeating: 0, count: nGenes), count: statistic.count)
        for (i, v) in statistic.enumerated() {
            let order = (0..<nGenes).sorted { v[$0] > v[$1] || (v[$0] == v[$1] && $0 < $1) }
            for (r, g) in order.enumerated() { ranks[i][g] = Double(r) }
        }
        var result = HighlyVariableGenes(highlyVariable: [], rank: [], nBatches: [], intersection: [], means: [], variances: [],
                                         statistic: [])
        for g in 0..<nGenes {
            let top = ranks.map { $0[g] }.filter { $0 < Double(nTopGenes) }
            result.nBatches.append(top.count)
            result.rank.append(top.isEmpty ? .nan : RobustStatistics.median(top))
        }
        return result
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
