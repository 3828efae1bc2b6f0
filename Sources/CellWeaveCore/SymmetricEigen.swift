import COpenBLAS

/// Eigen-decomposition of a real symmetric matrix through LAPACK's dsyevd.
public struct SymmetricEigen: Sendable {
    /// Eigenvalues, largest first.
    public var values: [Double]
    /// Eigenvectors as the columns of an n x n row-major matrix, in the order of `values`.
    public var vectors: [Double]
    public let n: Int

    /// - Parameter upper: n x n row-major matrix of which the upper triangle is read.
    public init(upper: [Double], n: Int) throws {
        var a = upper
        var w = [Double](repeating: 0, count: n)
        let info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "V")), Int8(UInt8(ascii: "U")), Int32(n), &a, Int32(n), &w)
        guard info == 0 else { throw MatrixError.malformed("LAPACK dsyevd failed to converge (info \(info))") }
        self.n = n
        values = Array(w.reversed())
        vectors = [Double](repeating: 0, count: n * n)
        for r in 0..<n {
            for c in 0..<n { vectors[r * n + c] = a[r * n + (n - 1 - c)] }
        }
    }
}
