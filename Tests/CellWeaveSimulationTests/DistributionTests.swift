import CellWeaveCore
import Testing

/// Moments of the samplers over many draws (fixed seeds, so the checks are deterministic).
@Suite struct DistributionTests {
    func moments(_ draw: (inout SeededGenerator) -> Double, n: Int = 200_000, seed: UInt64 = 11) -> (mean: Double, variance: Double) {
        var rng = SeededGenerator(seed: seed)
        let xs = (0..<n).map { _ in draw(&rng) }
        let mean = xs.reduce(0, +) / Double(n)
        return (mean, xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n - 1))
    }

    @Test(arguments: [(0.6, 2.0), (5.0, 1.0), (40.0, 0.25)])
    func gamma(shape: Double, scale: Double) {
        let m = moments { $0.nextGamma(shape: shape, scale: scale) }
        #expect(abs(m.mean / (shape * scale) - 1) < 0.01)
        #expect(abs(m.variance / (shape * scale * scale) - 1) < 0.03)
    }

    @Test(arguments: [0.5, 3.0, 9.9, 10.0, 50.0, 1000.0])
    func poisson(lambda: Double) {
        let m = moments { Double($0.nextPoisson(lambda)) }
        #expect(abs(m.mean / lambda - 1) < 0.01)
        #expect(abs(m.variance / lambda - 1) < 0.03)
    }

    @Test func poissonProbabilitiesAtSmallCounts() {
        var rng = SeededGenerator(seed: 3)
        let n = 200_000
        var zeros = 0, ones = 0
        for _ in 0..<n {
            switch rng.nextPoisson(20) { case 20: zeros += 1; case 21: ones += 1; default: break }
        }
        // P(20) = 0.08884, P(21) = 0.08461 for lambda = 20.
        #expect(abs(Double(zeros) / Double(n) - 0.08884) < 0.003)
        #expect(abs(Double(ones) / Double(n) - 0.08461) < 0.003)
    }

    @Test func negativeBinomialMeanAndOverdispersion() {
        let m = moments { Double($0.nextNegativeBinomial(mean: 20, theta: 5)) }
        #expect(abs(m.mean / 20 - 1) < 0.01)
        #expect(abs(m.variance / (20 + 400.0 / 5) - 1) < 0.03)
    }
}
