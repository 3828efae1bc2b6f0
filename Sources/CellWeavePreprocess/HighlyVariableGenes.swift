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
        try pearsonResiduals(blocks: CountBlocks(counts), cells: counts.rows, genes: counts.cols, batches: batches,
                             nTopGenes: nTopGenes, theta: theta, clip: clip)
    }

    /// The same over counts in blocks: the totals, then per gene and batch the mean of the
    /// residuals and their variance about it, as scanpy's kernel takes them (one pass for a
    /// matrix in memory, two when streamed).
    public static func pearsonResiduals(blocks: CountBlocks, cells: Int, genes nGenes: Int, batches: [Int]?, nTopGenes: Int,
                                        theta: Double = 100, clip: Double? = nil) throws -> HighlyVariableGenes {
        let batch = try BatchCells(cells: cells, genes: nGenes, batches: batches, nTopGenes: nTopGenes)
        let moments = try CountMoments(blocks: blocks, batch: batch, genes: nGenes)
        let residual = ClippedResiduals(theta: theta, clip: clip ?? Double(batch.sizes[0]).squareRoot())
        let nBatches = batch.count
        // scanpy multiplies the totals in the matrix's float32 before dividing in float64;
        // doing the same keeps numerically tied genes in the same order. Flat: [b * genes + g].
        let geneTotals32 = moments.batchSums.flatMap { $0.map { Float($0) } }, cellTotals32 = moments.cellTotals.map { Float($0) }
        let totals = moments.batchSums.map { $0.reduce(0, +) }, sizes = batch.sizes.map(Double.init)
        var sums = [Double](repeating: 0, count: nBatches * nGenes), squares = sums
        // Per gene and batch, over the batch's cells in order: the sum of the clipped residuals
        // (`means` nil) or of their squared deviations from `means`. A matrix in one block takes
        // both in one pass, each gene's mean as soon as its sums are complete; blocks take two.
        func accumulate(_ block: CSRMatrix, first: Int, means: [Double]?, fused: Bool) {
            let csc = block.toCSC(), n = block.rows
            let codes = Array(batch.code[first..<first + n]), cellTotals = Array(cellTotals32[first..<first + n])
            sums.withUnsafeMutableBufferPointer { sums in
                squares.withUnsafeMutableBufferPointer { squares in
                    // Genes are independent: split them across cores without changing any sum's order.
                    let parts = 8
                    ParallelLoop.run(parts: parts) { part in
                        var r = [Double](repeating: 0, count: n), gt = [Float](repeating: 0, count: nBatches)
                        var mean = [Double](repeating: 0, count: nBatches)
                        for g in ParallelLoop.range(part, of: parts, nGenes) {
                            for b in 0..<nBatches { gt[b] = geneTotals32[b * nGenes + g] }
                            // Every cell's residual once, then the sums in cell order; genes without
                            // counts in a batch are left out there (their variance is 0).
                            for c in 0..<n {
                                let b = codes[c]
                                r[c] = gt[b] > 0 ? residual(0, Double(gt[b] * cellTotals[c]) / totals[b]) : 0
                            }
                            for k in csc.indptr[g]..<csc.indptr[g + 1] {
                                let c = Int(csc.indices[k]), b = codes[c]
                                r[c] = residual(Double(csc.values[k]), Double(gt[b] * cellTotals[c]) / totals[b])
                            }
                            if means == nil {
                                for c in 0..<n where gt[codes[c]] > 0 { sums[codes[c] * nGenes + g] += r[c] }
                                guard fused else { continue }
                                for b in 0..<nBatches { mean[b] = sums[b * nGenes + g] / sizes[b] }
                            } else {
                                for b in 0..<nBatches { mean[b] = means![b * nGenes + g] }
                            }
                            for c in 0..<n where gt[codes[c]] > 0 {
                                let d = r[c] - mean[codes[c]]
                                squares[codes[c] * nGenes + g] += d * d
                            }
                        }
                    }
                }
            }
        }
        try blocks.forEach { block, first in accumulate(block, first: first, means: nil, fused: blocks.isWhole) }
        if !blocks.isWhole {
            let means = sums.indices.map { sums[$0] / sizes[$0 / nGenes] }
            try blocks.forEach { block, first in accumulate(block, first: first, means: means, fused: false) }
        }
        let perBatch = (0..<nBatches).map { b in (0..<nGenes).map { g in squares[b * nGenes + g] / sizes[b] } }

        var result = rankAcrossBatches(perBatch, nTopGenes: nTopGenes)
        result.statistic = (0..<nGenes).map { g in perBatch.reduce(0) { $0 + $1[g] } / Double(perBatch.count) }
        result.intersection = result.nBatches.map { $0 == batch.count }
        let order = (0..<nGenes).sorted { a, b in
            if result.nBatches[a] != result.nBatches[b] { return result.nBatches[a] > result.nBatches[b] }
            let ra = result.rank[a], rb = result.rank[b]
            if ra.isNaN != rb.isNaN { return !ra.isNaN }
            if !ra.isNaN && ra != rb { return ra < rb }
            return a < b
        }
        result.select(order.prefix(nTopGenes), of: nGenes)
        (result.means, result.variances) = moments.overall
        return result
    }

    /// scanpy.pp.highly_variable_genes(flavor="seurat_v3") (Stuart et al. 2019): per batch, a LOESS
    /// of log variance on log mean gives each gene's expected standard deviation; counts clipped at
    /// mean + sqrt(n) sd give the standardised variance; genes are ranked by it within batches and
    /// selected by median rank, then by the number of batches that rank them in the top.
    public static func seuratV3(counts: CSRMatrix, batches: [Int]?, nTopGenes: Int, span: Double = 0.3) throws -> HighlyVariableGenes {
        try seuratV3(blocks: CountBlocks(counts), cells: counts.rows, genes: counts.cols, batches: batches, nTopGenes: nTopGenes, span: span)
    }

    /// The same over counts in blocks: two passes (moments, then the clipped sums).
    public static func seuratV3(blocks: CountBlocks, cells: Int, genes nGenes: Int, batches: [Int]?, nTopGenes: Int,
                                span: Double = 0.3) throws -> HighlyVariableGenes {
        let batch = try BatchCells(cells: cells, genes: nGenes, batches: batches, nTopGenes: nTopGenes)
        let moments = try CountMoments(blocks: blocks, batch: batch, genes: nGenes)
        var sds: [[Double]] = [], clips: [[Double]] = []
        for b in 0..<batch.count {
            let (mean, variance) = moments.batch(b)
            let varying = (0..<nGenes).filter { variance[$0] > 0 }
            var expected = [Double](repeating: 0, count: nGenes)
            let fitted = Loess(span: span, degree: 2).fit(x: varying.map { Double.log10(mean[$0]) }, y: varying.map { Double.log10(variance[$0]) })
            for (i, g) in varying.enumerated() { expected[g] = fitted[i] }
            let sd = expected.map { Double.pow(10, $0).squareRoot() }
            let n = Double(batch.sizes[b])
            sds.append(sd)
            clips.append((0..<nGenes).map { sd[$0] * n.squareRoot() + mean[$0] })
        }
        var sum = [[Double]](repeating: [Double](repeating: 0, count: nGenes), count: batch.count), sq = sum
        try blocks.forEach { block, first in
            for c in 0..<block.rows {
                let b = batch.code[first + c]
                for k in block.indptr[c]..<block.indptr[c + 1] {
                    let g = Int(block.indices[k])
                    let x = min(Double(block.values[k]), clips[b][g])
                    sq[b][g] += x * x
                    sum[b][g] += x
                }
            }
        }
        let normalised = (0..<batch.count).map { b in
            let (mean, _) = moments.batch(b), sd = sds[b], n = Double(batch.sizes[b])
            return (0..<nGenes).map { g in (1 / ((n - 1) * (sd[g] * sd[g]))) * ((n * (mean[g] * mean[g])) + sq[b][g] - 2 * sum[b][g] * mean[g]) }
        }
        var result = rankAcrossBatches(normalised, nTopGenes: nTopGenes)
        result.statistic = (0..<nGenes).map { g in normalised.reduce(0) { $0 + $1[g] } / Double(normalised.count) }
        result.intersection = result.nBatches.map { $0 == batch.count }
        // seurat_v3 orders by median rank first, then by the number of batches.
        let order = (0..<nGenes).sorted { a, b in
            let ra = result.rank[a], rb = result.rank[b]
            if ra.isNaN != rb.isNaN { return !ra.isNaN }
            if !ra.isNaN && ra != rb { return ra < rb }
            if result.nBatches[a] != result.nBatches[b] { return result.nBatches[a] > result.nBatches[b] }
            return a < b
        }
        result.select(order.prefix(nTopGenes), of: nGenes)
        (result.means, result.variances) = moments.overall
        return result
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
