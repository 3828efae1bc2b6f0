import CellWeaveCore
import Dispatch

/// PCA by the eigen-decomposition of the covariance matrix, accumulated block by block so that
/// only `chunkSize` rows are ever dense. Matches scikit-learn's PCA (as scanpy.pp.pca uses it):
/// scores of the centred data, variance with n - 1, components signed so that the largest
/// loading of each is positive.
public struct PrincipalComponents: Sendable {
    /// n x k scores (obsm X_pca).
    public var scores: DenseMatrix
    /// genes x k loadings (varm PCs).
    public var loadings: DenseMatrix
    public var variance: [Double]
    public var varianceRatio: [Double]

    /// - Parameters:
    ///   - prepare: called with each chunk's rows, in order, on the caller's thread, before the
    ///     chunk is filled (to read a streamed chunk); once per chunk in each of the two passes.
    ///   - fill: writes rows `range` of the data (range.count x cols, row-major) into the
    ///     buffer; it is called from two threads at once, for different ranges.
    public init(rows: Int, cols: Int, components k: Int, chunkSize: Int = 2048, prepare: (Range<Int>) throws -> Void = { _ in },
                fill: @Sendable (Range<Int>, UnsafeMutableBufferPointer<Double>) -> Void) throws {
        guard rows >= 2 else { throw PreprocessError.tooFewCells(rows, needed: 2) }
        guard k >= 1, k <= min(rows - 1, cols) else { throw PreprocessError.tooManyComponents(requested: k, available: min(rows - 1, cols)) }
        // Two halves of every chunk are filled and accumulated at once, each with single-threaded
        // BLAS: OpenBLAS's own threads would spin between calls and take the cores the residuals
        // need. The halves are fixed, so the sums and the result do not depend on scheduling.
        let previousThreads = BLAS.threadCount
        BLAS.threadCount = 1
        defer { BLAS.threadCount = previousThreads }
        let parts = 2, partRows = (chunkSize + parts - 1) / parts
        var grams = [Double](repeating: 0, count: parts * cols * cols)
        var partSums = [Double](repeating: 0, count: parts * cols)
        var blocks = [Double](repeating: 0, count: parts * partRows * cols)
        func halves(_ range: Range<Int>) -> [Range<Int>] {
            let mid = range.lowerBound + (range.count + 1) / 2
            return [range.lowerBound..<mid, mid..<range.upperBound]
        }
        /// Both halves of every chunk at once, each block filled with its rows first.
        func overChunks(_ body: (_ part: Int, _ range: Range<Int>, _ block: UnsafeMutableBufferPointer<Double>) -> Void) throws {
            try blocks.withUnsafeMutableBufferPointer { blocks in
                for start in stride(from: 0, to: rows, by: chunkSize) {
                    try prepare(start..<min(rows, start + chunkSize))
                    let pieces = halves(start..<min(rows, start + chunkSize))
                    DispatchQueue.concurrentPerform(iterations: parts) { p in
                        let block = UnsafeMutableBufferPointer(rebasing: blocks[(p * partRows * cols)..<((p + 1) * partRows * cols)])
                        fill(pieces[p], block)
                        body(p, pieces[p], block)
                    }
                }
            }
        }
        try grams.withUnsafeMutableBufferPointer { grams in
            try partSums.withUnsafeMutableBufferPointer { partSums in
                try overChunks { p, range, block in
                    BLAS.accumulateGram(UnsafeBufferPointer(block), rows: range.count, cols: cols,
                                        into: UnsafeMutableBufferPointer(rebasing: grams[(p * cols * cols)..<((p + 1) * cols * cols)]))
                    for i in 0..<range.count {
                        for j in 0..<cols { partSums[p * cols + j] += block[i * cols + j] }
                    }
                }
            }
        }
        var gram = (0..<(cols * cols)).map { grams[$0] + grams[cols * cols + $0] }
        let sums = (0..<cols).map { partSums[$0] + partSums[cols + $0] }
        let n = Double(rows)
        let mean = sums.map { $0 / n }
        for a in 0..<cols {
            for b in a..<cols { gram[a * cols + b] = (gram[a * cols + b] - n * mean[a] * mean[b]) / (n - 1) }
        }
        let totalVariance = (0..<cols).reduce(0.0) { $0 + gram[$1 * cols + $1] }
        let eigen = try SymmetricEigen(upper: gram, n: cols)

        var v = [Double](repeating: 0, count: cols * k) // cols x k
        for c in 0..<k {
            var largest = 0.0
            for r in 0..<cols where abs(eigen.vectors[r * cols + c]) > abs(largest) { largest = eigen.vectors[r * cols + c] }
            let sign: Double = largest < 0 ? -1 : 1
            for r in 0..<cols { v[r * k + c] = sign * eigen.vectors[r * cols + c] }
        }
        variance = Array(eigen.values.prefix(k))
        varianceRatio = variance.map { $0 / totalVariance }
        loadings = try DenseMatrix(rows: cols, cols: k, values: v.map { Float($0) })

        var scoreValues = [Float](repeating: 0, count: rows * k)
        var outs = [Double](repeating: 0, count: parts * partRows * k)
        try outs.withUnsafeMutableBufferPointer { outs in
            try scoreValues.withUnsafeMutableBufferPointer { scoreValues in
                try v.withUnsafeBufferPointer { pv in
                    try overChunks { p, range, block in
                        let out = UnsafeMutableBufferPointer(rebasing: outs[(p * partRows * k)..<((p + 1) * partRows * k)])
                        for i in 0..<range.count {
                            for j in 0..<cols { block[i * cols + j] -= mean[j] }
                        }
                        BLAS.dgemm(UnsafeBufferPointer(block), pv, m: range.count, k: cols, n: k, into: out)
                        for i in 0..<(range.count * k) { scoreValues[range.lowerBound * k + i] = Float(out[i]) }
                    }
                }
            }
        }
        scores = try DenseMatrix(rows: rows, cols: k, values: scoreValues)
    }
}
