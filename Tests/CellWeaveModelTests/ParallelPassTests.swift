import CellWeaveCore
@testable import CellWeaveModel
import Testing

/// Passes split across threads give the values one thread gives, bit for bit: a seed and a
/// thread count reproduce a run, and the split is only a matter of speed.
@Suite struct ParallelPassTests {
    @Test(arguments: [100, 5_000])
    func gaussianNoiseIsTheGeneratorsSequence(count: Int) {
        var reference = SeededGenerator(seed: 7), generator = SeededGenerator(seed: 7)
        let expected = (0..<count).map { _ in Float(reference.nextGaussian()) }
        let noise = GaussianNoise(capacity: 10, parts: 2)
        var out = [Float](repeating: .nan, count: count)
        noise.fill(&out, count: count, generator: &generator)
        #expect(out == expected)
        #expect(generator.next() == reference.next())
    }

    @Test func batchNormSplitByFeaturesIsOneThreads() {
        let rows = 100, features = 128
        var rng = SeededGenerator(seed: 3)
        let x = (0..<(rows * features)).map { _ in Float(4 * rng.nextUniformFloat() - 1) }
        let dy = (0..<(rows * features)).map { _ in Float(2 * rng.nextUniformFloat() - 1) }
        func run(parts: Int, training: Bool) -> [[Float]] {
            let norm = BatchNorm<Float>(name: "bn", features: features, capacity: rows, parts: parts)
            for j in 0..<features { norm.scale.value[j] = 1 + Float(j) / 256; norm.shift.value[j] = Float(j) / 512 }
            var y = x, g = dy
            if !training { norm.forward(&y, rows: rows, training: true); y = x }
            norm.forward(&y, rows: rows, training: training)
            norm.backward(&g, rows: rows)
            return [y, g, norm.scale.gradient.array, norm.shift.gradient.array, norm.runningMean.array, norm.runningVariance.array]
        }
        for training in [true, false] {
            #expect(run(parts: 2, training: training) == run(parts: 1, training: training))
        }
    }
}
