import CellWeaveCore
import Testing

@Suite struct SeededGeneratorTests {
    @Test func sameSeedSameStream() {
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42), c = SeededGenerator(seed: 43)
        let xa = (0..<100).map { _ in a.next() }
        #expect(xa == (0..<100).map { _ in b.next() })
        #expect(xa != (0..<100).map { _ in c.next() })
    }

    @Test func uniformAndGaussianMoments() {
        var g = SeededGenerator(seed: 3)
        let n = 100_000
        let u = (0..<n).map { _ in Double(g.nextUniformFloat()) }
        #expect(u.allSatisfy { $0 >= 0 && $0 < 1 })
        #expect(abs(u.reduce(0, +) / Double(n) - 0.5) < 0.01)
        let z = (0..<n).map { _ in g.nextGaussian() }
        let mean = z.reduce(0, +) / Double(n)
        let variance = z.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
        #expect(abs(mean) < 0.02)
        #expect(abs(variance - 1) < 0.02)
    }

    @Test func worksWithStandardLibraryShuffling() {
        var g1 = SeededGenerator(seed: 9), g2 = SeededGenerator(seed: 9)
        #expect(Array(0..<50).shuffled(using: &g1) == Array(0..<50).shuffled(using: &g2))
    }
}
