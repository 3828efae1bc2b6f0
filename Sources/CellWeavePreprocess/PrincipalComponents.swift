import CellWeaveCore

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

    /// - Parameter fill: writes rows `range` of the data (range.count x cols, row-major) into the buffer.
    public init(rows: Int, cols: Int, components k: Int, chunkSize: Int = 2048,
                fill: (Range<Int>, UnsafeMutableBufferPointer<Double>) -> Void) throws {
        guard rows >= 2 else { throw PreprocessError.tooFewCells(rows, needed: 2) }
        guard k >= 1, k <= min(rows - 1, cols) else { throw PreprocessError.tooManyComponents(requested: k, available: min(rows - 1, cols)) }
        var gram = [Double](repeating: 0, count: cols * cols)
        var sums = [Double](repeating: 0, count: cols)
        var block = [Double](repeating: 0, count: chunkSize * cols)
        for start in stride(from: 0, to: rows, by: chunkSize) {
            let range = start..<min(rows, start + chunkSize)
            block.withUnsafeMutableBufferPointer { b in
                fill(range, b)
                BLAS.accumulateGram(UnsafeBufferPointer(b), rows: range.count, cols: cols, into: &gram)
                for i in 0..<range.count {
                    for j in 0..<cols { sums[j] += b[i * cols + j] }
                }
            }
        }
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
        var out = [Double](repeating: 0, count: chunkSize * k)
        for start in stride(from: 0, to: rows, by: chunkSize) {
            let range = start..<min(rows, start + chunkSize)
            block.withUnsafeMutableBufferPointer { b in
                fill(range, b)
                for i in 0..<range.count {
                    for j in 0..<cols { b[i * cols + j] -= mean[j] }
                }
                v.withUnsafeBufferPointer { pv in
                    out.withUnsafeMutableBufferPointer { po in
                        BLAS.dgemm(UnsafeBufferPointer(b), pv, m: range.count, k: cols, n: k, into: po)
                    }
                }
            }
            for i in 0..<(range.count * k) { scoreValues[start * k + i] = Float(out[i]) }
        }
        scores = try DenseMatrix(rows: rows, cols: k, values: scoreValues)
    }
}
