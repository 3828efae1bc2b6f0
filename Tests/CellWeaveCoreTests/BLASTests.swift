import CellWeaveCore
import Testing

@Suite struct BLASTests {
    func naive(_ a: DenseMatrix, _ b: DenseMatrix) -> DenseMatrix {
        var c = DenseMatrix(rows: a.rows, cols: b.cols)
        for i in 0..<a.rows {
            for j in 0..<b.cols {
                var s: Float = 0
                for k in 0..<a.cols { s += a[i, k] * b[k, j] }
                c[i, j] = s
            }
        }
        return c
    }

    func random(_ rows: Int, _ cols: Int, _ rng: inout SeededGenerator) -> DenseMatrix {
        var m = DenseMatrix(rows: rows, cols: cols)
        for i in m.values.indices { m.values[i] = rng.nextUniformFloat() - 0.5 }
        return m
    }

    @Test func gemmMatchesNaiveProduct() throws {
        var rng = SeededGenerator(seed: 7)
        let a = random(5, 7, &rng), b = random(7, 3, &rng)
        let expected = naive(a, b)
        let c = try BLAS.matmul(a, b)
        for (x, y) in zip(c.values, expected.values) { #expect(abs(x - y) < 1e-5) }
        let ct = try BLAS.matmul(a.transposed(), transposeA: true, b.transposed(), transposeB: true)
        for (x, y) in zip(ct.values, expected.values) { #expect(abs(x - y) < 1e-5) }
    }

    @Test func gemmAccumulatesWithBeta() throws {
        var rng = SeededGenerator(seed: 1)
        let a = random(3, 4, &rng), b = random(4, 2, &rng)
        var c = DenseMatrix(rows: 3, cols: 2, repeating: 1)
        try BLAS.gemm(a, b, into: &c, alpha: 2, beta: 1)
        let ab = naive(a, b)
        for (x, y) in zip(c.values, ab.values) { #expect(abs(x - (2 * y + 1)) < 1e-5) }
    }

    @Test func gemmRejectsMismatchedShapes() {
        let a = DenseMatrix(rows: 2, cols: 3), b = DenseMatrix(rows: 2, cols: 3)
        #expect(throws: MatrixError.self) { try BLAS.matmul(a, b) }
    }
}
