import CellWeaveCore
import RealModule

/// Adam as torch.optim.Adam, with scvi-tools' defaults (eps 0.01, weight decay 1e-6 added to the
/// gradient as L2), and optional clipping of the global gradient norm before the update.
public final class Adam<T: ModelScalar> {
    public let parameters: [Parameter<T>]
    public var learningRate: Double
    public let weightDecay: Double
    public let epsilon: Double
    public let beta1 = 0.9, beta2 = 0.999
    public private(set) var steps = 0
    /// Pieces a large parameter's update is split into (threads).
    public let parts: Int
    let firstMoments: [Buffer<T>]
    let secondMoments: [Buffer<T>]

    public init(parameters: [Parameter<T>], learningRate: Double = 1e-3, weightDecay: Double = 1e-6, epsilon: Double = 0.01, parts: Int = 1) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.epsilon = epsilon
        self.parts = parts
        firstMoments = parameters.map { Buffer(count: $0.count) }
        secondMoments = parameters.map { Buffer(count: $0.count) }
        allSlices = parameters.indices.map { ($0, 0..<parameters[$0].count) }
    }

    /// Part of the parameters: which one, and the range of its values (`ShardedUpdate`'s shard).
    public typealias Slice = (parameter: Int, values: Range<Int>)

    /// Every parameter whole.
    let allSlices: [Slice]

    /// The L2 norm of all gradients, in Double.
    public func gradientNorm() -> Double { gradientSquaredSum(allSlices).squareRoot() }

    /// The sum of the squared gradients of `slices`, in Double.
    public func gradientSquaredSum(_ slices: [Slice]) -> Double {
        var sum = 0.0
        for (p, range) in slices {
            let g = parameters[p].gradient.pointer + range.lowerBound, n = range.count
            var s = SIMD8<T>.zero, tail: T = 0
            let vectors = n / 8
            for v in 0..<vectors { let x = Self.load(g + 8 * v); s += x * x }
            for k in (8 * vectors)..<n { tail += g[k] * g[k] }
            sum += Double(s.sum() + tail)
        }
        return sum
    }

    /// One update; gradients are first scaled so their global norm is at most `clipNorm` when given,
    /// and are left zero for the next step to accumulate into. `slices`: update those values alone,
    /// each starting at a multiple of 8 of its parameter (so the kernel's lanes fall as on the whole);
    /// `norm` must then be given when clipping.
    public func step(clipNorm: Double? = nil, norm: Double? = nil, slices: [Slice]? = nil) {
        steps += 1
        var gradientScale: T = 1
        if let clipNorm {
            let total = norm ?? gradientNorm()
            if total > clipNorm { gradientScale = T(clipNorm / (total + 1e-6)) }
        }
        let constants = Constants(scale: gradientScale, beta1: T(beta1), beta2: T(beta2), decay: T(weightDecay), epsilon: T(epsilon),
                                  stepSize: T(learningRate / (1 - Double.pow(beta1, Double(steps)))),
                                  correction2: T((1 - Double.pow(beta2, Double(steps))).squareRoot()))
        for (p, range) in slices ?? allSlices {
            precondition(range.lowerBound % 8 == 0, "a slice of Adam's update starts at a multiple of 8")
            let start = range.lowerBound, w = parameters[p].value.pointer + start, g = parameters[p].gradient.pointer + start
            let m = firstMoments[p].pointer + start, v = secondMoments[p].pointer + start, n = range.count
            let pieces = n >= 32_768 ? parts : 1
            ParallelLoop.run(parts: pieces) { part in
                // Pieces start at multiples of 8, as they did when the update was an 8-lane loop.
                let r = ParallelLoop.range(part, of: pieces, n / 8), end = part == pieces - 1 ? n : 8 * r.upperBound
                let o = 8 * r.lowerBound
                T.adamUpdate(w + o, g + o, m + o, v + o, count: end - o, constants)
            }
        }
    }

    public struct Constants {
        public let scale, beta1, beta2, decay, epsilon, stepSize, correction2: T
    }

    static func load(_ p: UnsafePointer<T>) -> SIMD8<T> { UnsafeRawPointer(p).loadUnaligned(as: SIMD8<T>.self) }

    /// Moments and step count, for checkpoints.
    public var state: (steps: Int, first: [[T]], second: [[T]]) {
        (steps, firstMoments.map(\.array), secondMoments.map(\.array))
    }

    public func restore(steps: Int, first: [[T]], second: [[T]]) {
        self.steps = steps
        for (b, values) in zip(firstMoments, first) { b.assign(values) }
        for (b, values) in zip(secondMoments, second) { b.assign(values) }
    }
}
