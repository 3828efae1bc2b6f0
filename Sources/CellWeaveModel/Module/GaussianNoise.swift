import CellWeaveCore

/// Standard normals for a step (the reparameterisation's epsilon, the protein background's
/// sample): the same values, in the same order, as `nextGaussian` called once per value, with the
/// stream's words drawn first (they are sequential) and the Box-Muller transforms (a log, a cos
/// and a square root each, the costly part) split across the threads.
final class GaussianNoise {
    let parts: Int
    private var words: [UInt64]

    init(capacity: Int, parts: Int) {
        self.parts = max(parts, 1)
        words = Array(repeating: 0, count: 2 * capacity)
    }

    /// Below this many values one thread is faster than a parallel pass.
    static let parallelAbove = 1_024

    func fill<T: ModelScalar>(_ out: UnsafeMutablePointer<T>, count n: Int, generator: inout SeededGenerator) {
        if words.count < 2 * n { words = Array(repeating: 0, count: 2 * n) }
        words.withUnsafeMutableBufferPointer { w in
            for k in 0..<(2 * n) { w[k] = generator.next() }
            let w = UnsafeBufferPointer(w)
            ParallelLoop.forEachRange(of: n, parts: parts, values: n, minimum: Self.parallelAbove) { range in
                for k in range { out[k] = T(SeededGenerator.gaussian(w[2 * k], w[2 * k + 1])) }
            }
        }
    }
}
