import CellWeaveCore
import COpenBLAS
import CVectorMath
import RealModule

/// The element type of model tensors. Training runs in Float (DESIGN.md section 3); the same
/// generic layers instantiated at Double let the tests check gradients by finite differences.
public protocol ModelScalar: Real, BinaryFloatingPoint, SIMDScalar, Sendable {
    /// C = alpha op(A) op(B) + beta C, row-major, m x n result with inner dimension k.
    static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Self,
                     _ a: UnsafePointer<Self>, lda: Int, _ b: UnsafePointer<Self>, ldb: Int,
                     beta: Self, _ c: UnsafeMutablePointer<Self>, ldc: Int)
    /// y = exp(x) and y = log(x) element-wise over n values; x and y must not overlap.
    static func exp(_ x: UnsafePointer<Self>, into y: UnsafeMutablePointer<Self>, count n: Int)
    static func log(_ x: UnsafePointer<Self>, into y: UnsafeMutablePointer<Self>, count n: Int)
    /// y = max(y, 0) in place; and dy = y > 0 ? dy * scale : 0 for a ReLU's output y.
    static func relu(_ y: UnsafeMutablePointer<Self>, count n: Int)
    static func reluBackward(output y: UnsafePointer<Self>, gradient dy: UnsafeMutablePointer<Self>, scale: Self, count n: Int)
    /// One Adam update of n parameters w in place from gradients g (left zero) and moments m, v.
    static func adamUpdate(_ w: UnsafeMutablePointer<Self>, _ g: UnsafeMutablePointer<Self>, _ m: UnsafeMutablePointer<Self>,
                           _ v: UnsafeMutablePointer<Self>, count n: Int, _ c: Adam<Self>.Constants)
    /// A sparse input's layer over the genes of `genes` (entries start[g]..<start[g + 1] of gene g
    /// are (row, value), rows of `width`): y[row] += value * w[g], and for the weight gradient
    /// dw[g] += value * dy[row].
    static func sparseForwardByGene(start: UnsafeBufferPointer<Int>, rows: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Self>, genes: Range<Int>,
                                    weight w: UnsafePointer<Self>, into y: UnsafeMutablePointer<Self>, width n: Int)
    static func sparseWeightGradientByGene(start: UnsafeBufferPointer<Int>, rows: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Self>, genes: Range<Int>,
                                           outputGradient dy: UnsafePointer<Self>, into dw: UnsafeMutablePointer<Self>, width n: Int)
}

/// The element-wise kernels in Swift, for Double (the gradient checks); Float's are C, built for AVX2
/// too (Swift code is built for the baseline x86-64, two SSE operations to an 8-lane SIMD one).
extension ModelScalar {
    public static func adamUpdate(_ w: UnsafeMutablePointer<Self>, _ g: UnsafeMutablePointer<Self>, _ m: UnsafeMutablePointer<Self>,
                                  _ v: UnsafeMutablePointer<Self>, count n: Int, _ c: Adam<Self>.Constants) {
        for k in 0..<n {
            let grad = g[k] * c.scale + c.decay * w[k]
            g[k] = 0
            m[k] = c.beta1 * m[k] + (1 - c.beta1) * grad
            v[k] = c.beta2 * v[k] + (1 - c.beta2) * grad * grad
            w[k] -= c.stepSize * m[k] / (v[k].squareRoot() / c.correction2 + c.epsilon)
        }
    }

    public static func sparseForwardByGene(start: UnsafeBufferPointer<Int>, rows: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Self>, genes: Range<Int>,
                                           weight w: UnsafePointer<Self>, into y: UnsafeMutablePointer<Self>, width n: Int) {
        for g in genes {
            for k in start[g]..<start[g + 1] {
                let a = values[k], out = y + Int(rows[k]) * n, row = w + g * n
                for h in 0..<n { out[h] += a * row[h] }
            }
        }
    }

    public static func sparseWeightGradientByGene(start: UnsafeBufferPointer<Int>, rows: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Self>,
                                                  genes: Range<Int>, outputGradient dy: UnsafePointer<Self>, into dw: UnsafeMutablePointer<Self>,
                                                  width n: Int) {
        for g in genes {
            for k in start[g]..<start[g + 1] {
                let a = values[k], source = dy + Int(rows[k]) * n, out = dw + g * n
                for h in 0..<n { out[h] += a * source[h] }
            }
        }
    }
}

extension Float: ModelScalar {
    public static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                            _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
                            beta: Float, _ c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

extension Float {
    public static func exp(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count n: Int) { cw_vexpf(x, y, n) }
    public static func log(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count n: Int) { cw_vlogf(x, y, n) }
    public static func relu(_ y: UnsafeMutablePointer<Float>, count n: Int) { cw_relu(y, n) }
    public static func reluBackward(output y: UnsafePointer<Float>, gradient dy: UnsafeMutablePointer<Float>, scale: Float, count n: Int) {
        cw_relu_backward(y, dy, scale, n)
    }

    public static func adamUpdate(_ w: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>, _ m: UnsafeMutablePointer<Float>,
                                  _ v: UnsafeMutablePointer<Float>, count n: Int, _ c: Adam<Float>.Constants) {
        var constants = cw_adam_constants(scale: c.scale, beta1: c.beta1, beta2: c.beta2, decay: c.decay, epsilon: c.epsilon,
                                          stepSize: c.stepSize, correction2: c.correction2)
        cw_adam_update(w, g, m, v, n, &constants)
    }

    public static func sparseForwardByGene(start: UnsafeBufferPointer<Int>, rows: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>, genes: Range<Int>,
                                           weight w: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, width n: Int) {
        cw_sparse_forward_by_gene(start.baseAddress, rows.baseAddress, values.baseAddress, genes.lowerBound, genes.upperBound, w, y, n)
    }

    public static func sparseWeightGradientByGene(start: UnsafeBufferPointer<Int>, rows: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>,
                                                  genes: Range<Int>, outputGradient dy: UnsafePointer<Float>, into dw: UnsafeMutablePointer<Float>,
                                                  width n: Int) {
        cw_sparse_weight_gradient_by_gene(start.baseAddress, rows.baseAddress, values.baseAddress, genes.lowerBound, genes.upperBound, dy, dw, n)
    }
}

extension Double {
    public static func exp(_ x: UnsafePointer<Double>, into y: UnsafeMutablePointer<Double>, count n: Int) {
        for i in 0..<n { y[i] = Double.exp(x[i]) }
    }
    public static func relu(_ y: UnsafeMutablePointer<Double>, count n: Int) { for i in 0..<n { y[i] = max(y[i], 0) } }
    public static func reluBackward(output y: UnsafePointer<Double>, gradient dy: UnsafeMutablePointer<Double>, scale: Double, count n: Int) {
        for i in 0..<n { dy[i] = y[i] > 0 ? dy[i] * scale : 0 }
    }
    public static func log(_ x: UnsafePointer<Double>, into y: UnsafeMutablePointer<Double>, count n: Int) {
        for i in 0..<n { y[i] = Double.log(x[i]) }
    }
}

extension Double: ModelScalar {
    public static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Double,
                            _ a: UnsafePointer<Double>, lda: Int, _ b: UnsafePointer<Double>, ldb: Int,
                            beta: Double, _ c: UnsafeMutablePointer<Double>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        cblas_dgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

extension ModelScalar {
    /// gemm split into `parts` pieces of the output (by columns when it is wider than tall, else by
    /// rows) on single-threaded BLAS: no spinning BLAS threads between the element-wise passes, and
    /// each output element is summed over k in one piece, so the split cannot change the order.
    static func gemm(parts: Int, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Self,
                     _ a: UnsafePointer<Self>, lda: Int, _ b: UnsafePointer<Self>, ldb: Int,
                     beta: Self, _ c: UnsafeMutablePointer<Self>, ldc: Int) {
        guard parts > 1, 2 * m * n * k >= 2_000_000 else {
            gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a, lda: lda, b, ldb: ldb,
                 beta: beta, c, ldc: ldc)
            return
        }
        ParallelLoop.run(parts: parts) { p in
            if n >= m {
                let r = ParallelLoop.range(p, of: parts, n)
                gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: r.count, k: k, alpha: alpha, a, lda: lda,
                     b + (transposeB ? r.lowerBound * ldb : r.lowerBound), ldb: ldb, beta: beta, c + r.lowerBound, ldc: ldc)
            } else {
                let r = ParallelLoop.range(p, of: parts, m)
                gemm(transposeA: transposeA, transposeB: transposeB, m: r.count, n: n, k: k, alpha: alpha,
                     a + (transposeA ? r.lowerBound : r.lowerBound * lda), lda: lda, b, ldb: ldb, beta: beta,
                     c + r.lowerBound * ldc, ldc: ldc)
            }
        }
    }
}

extension ModelScalar {
    /// Self's memory as Float, for the C kernels that run Float's training passes (Self must be Float).
    static func float(_ p: UnsafePointer<Self>) -> UnsafePointer<Float> { UnsafeRawPointer(p).assumingMemoryBound(to: Float.self) }
    static func float(_ p: UnsafeMutablePointer<Self>) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
    }
}
