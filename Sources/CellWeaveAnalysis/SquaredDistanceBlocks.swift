import CellWeaveCore

/// Squared Euclidean distances from blocks of an embedding's rows to all of its rows, one BLAS
/// product per block (|x|^2 + |y|^2 - 2 x.y), so memory stays at block x cells. In Double: the
/// embeddings are float32, and the products then cancel without losing the small distances.
public struct SquaredDistanceBlocks: Sendable {
    public let cells: Int
    public let dims: Int
    let x: [Double]
    let norms: [Double]
    let transposed: [Double]
    /// Rows per block: at most 256, and at most 32 MB of distances.
    public let blockRows: Int

    public init(_ embedding: DenseMatrix) {
        cells = embedding.rows
        dims = embedding.cols
        let n = cells, d = dims
        let x = embedding.values.map(Double.init)
        self.x = x
        norms = (0..<n).map { i in (0..<d).reduce(0.0) { $0 + x[i * d + $1] * x[i * d + $1] } }
        var t = [Double](repeating: 0, count: d * n)
        for i in 0..<n { for k in 0..<d { t[k * n + i] = x[i * d + k] } }
        transposed = t
        blockRows = max(1, min(256, (4 << 20) / max(n, 1)))
    }

    /// body(first row, rows in block, squared distances rows x cells, row-major, clamped at 0) for
    /// consecutive blocks covering `range`. The buffer is reused between calls.
    public func forEachBlock(in range: Range<Int>, _ body: (Int, Int, UnsafeBufferPointer<Double>) -> Void) {
        let n = cells
        var products = [Double](repeating: 0, count: blockRows * n)
        for start in stride(from: range.lowerBound, to: range.upperBound, by: blockRows) {
            let rows = min(blockRows, range.upperBound - start)
            x.withUnsafeBufferPointer { px in
                transposed.withUnsafeBufferPointer { pt in
                    products.withUnsafeMutableBufferPointer { pp in
                        BLAS.dgemm(UnsafeBufferPointer(rebasing: px[(start * dims)...]), pt, m: rows, k: dims, n: n, into: pp)
                    }
                }
            }
            for r in 0..<rows {
                let ni = norms[start + r]
                for j in 0..<n { products[r * n + j] = max(ni + norms[j] - 2 * products[r * n + j], 0) }
            }
            products.withUnsafeBufferPointer { body(start, rows, UnsafeBufferPointer(rebasing: $0[0..<(rows * n)])) }
        }
    }

    /// The distance between rows i and j, summed coordinate by coordinate (no cancellation).
    public func distance(_ i: Int, _ j: Int) -> Double {
        var s = 0.0
        for k in 0..<dims { let v = x[i * dims + k] - x[j * dims + k]; s += v * v }
        return s.squareRoot()
    }
}
