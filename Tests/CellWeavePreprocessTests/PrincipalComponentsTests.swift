import CellWeaveCore
import CellWeavePreprocess
import Testing

@Suite struct PrincipalComponentsTests {
    func pca(_ rows: [[Double]], k: Int, chunk: Int) throws -> PrincipalComponents {
        try PrincipalComponents(rows: rows.count, cols: rows[0].count, components: k, chunkSize: chunk) { range, out in
            for (i, r) in range.enumerated() {
                for j in rows[r].indices { out[i * rows[r].count + j] = rows[r][j] }
            }
        }
    }

    @Test func pointsOnALineHaveOneComponent() throws {
        // x = t * (3, 4) / 5 for t = -2...2: all variance along (0.6, 0.8).
        let rows = (-2...2).map { t in [Double(t) * 0.6, Double(t) * 0.8] }
        let p = try pca(rows, k: 2, chunk: 2) // chunks smaller than the data
        #expect(abs(p.variance[0] - 2.5) < 1e-12) // var of -2...2 with n - 1
        #expect(abs(p.variance[1]) < 1e-12)
        #expect(abs(p.varianceRatio[0] - 1) < 1e-12)
        #expect(abs(p.loadings[0, 0] - 0.6) < 1e-6 && abs(p.loadings[1, 0] - 0.8) < 1e-6) // largest loading positive
        #expect((0..<5).allSatisfy { abs(Double(p.scores[$0, 0]) - Double($0 - 2)) < 1e-6 })
    }

    @Test func chunkSizeDoesNotChangeTheResult() throws {
        var rng = SeededGenerator(seed: 5)
        let rows = (0..<37).map { _ in (0..<6).map { _ in rng.nextGaussian() } }
        let a = try pca(rows, k: 3, chunk: 5), b = try pca(rows, k: 3, chunk: 100)
        for (x, y) in zip(a.variance, b.variance) { #expect(abs(x - y) < 1e-9 * x) }
        for (x, y) in zip(a.scores.values, b.scores.values) { #expect(abs(x - y) < 1e-4) }
    }

    @Test func rejectsImpossibleRequests() {
        #expect(throws: PreprocessError.tooFewCells(1, needed: 2)) { try pca([[1, 2]], k: 1, chunk: 4) }
        #expect(throws: PreprocessError.tooManyComponents(requested: 3, available: 2)) { try pca([[1, 2], [3, 4], [5, 7]], k: 3, chunk: 4) }
    }
}
