import COpenBLAS

/// Thin wrappers over OpenBLAS for the few routines CellWeave calls.
public enum BLAS {
    /// C = alpha * op(A) * op(B) + beta * C, all row-major.
    public static func gemm(_ a: DenseMatrix, transposeA: Bool = false,
                            _ b: DenseMatrix, transposeB: Bool = false,
                            into c: inout DenseMatrix, alpha: Float = 1, beta: Float = 0) throws {
        let m = transposeA ? a.cols : a.rows
        let k = transposeA ? a.rows : a.cols
        let kb = transposeB ? b.cols : b.rows
        let n = transposeB ? b.rows : b.cols
        guard k == kb, c.rows == m, c.cols == n else {
            throw MatrixError.shapeMismatch(operation: "gemm", expected: "\(m)x\(k) * \(k)x\(n) -> \(m)x\(n)",
                                            found: "\(m)x\(k) * \(kb)x\(n) -> \(c.rows)x\(c.cols)")
        }
        if m == 0 || n == 0 { return }
        a.values.withUnsafeBufferPointer { pa in
            b.values.withUnsafeBufferPointer { pb in
                c.values.withUnsafeMutableBufferPointer { pc in
                    cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                                Int32(m), Int32(n), Int32(k), alpha,
                                pa.baseAddress, Int32(max(a.cols, 1)), pb.baseAddress, Int32(max(b.cols, 1)),
                                beta, pc.baseAddress, Int32(max(c.cols, 1)))
                }
            }
        }
    }

    /// op(A) * op(B) as a new matrix.
    public static func matmul(_ a: DenseMatrix, transposeA: Bool = false, _ b: DenseMatrix, transposeB: Bool = false) throws -> DenseMatrix {
        var c = DenseMatrix(rows: transposeA ? a.cols : a.rows, cols: transposeB ? b.rows : b.cols)
        try gemm(a, transposeA: transposeA, b, transposeB: transposeB, into: &c)
        return c
    }

    /// Threads OpenBLAS may use; part of what makes a run reproducible.
    public static var threadCount: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(newValue)) }
    }
}

extension BLAS {
    /// C += A^T A for a row-major rows x cols block A (upper triangle of C, cols x cols, row-major):
    /// the Gram matrix accumulated chunk by chunk, so a large matrix never has to be dense at once.
    public static func accumulateGram(_ a: UnsafeBufferPointer<Double>, rows: Int, cols: Int, into c: UnsafeMutableBufferPointer<Double>) {
        precondition(a.count >= rows * cols && c.count >= cols * cols)
        guard rows > 0, cols > 0 else { return }
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(cols), Int32(rows), 1,
                    a.baseAddress, Int32(cols), 1, c.baseAddress, Int32(cols))
    }

    /// C = A B for row-major Double matrices (m x k times k x n).
    public static func dgemm(_ a: UnsafeBufferPointer<Double>, _ b: UnsafeBufferPointer<Double>, m: Int, k: Int, n: Int,
                             into c: UnsafeMutableBufferPointer<Double>) {
        guard m > 0, n > 0 else { return }
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1,
                    a.baseAddress, Int32(k), b.baseAddress, Int32(n), 0, c.baseAddress, Int32(n))
    }
}
