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
    }

    /// The L2 norm of all gradients, in Double.
    public func gradientNorm() -> Double {
        var sum = 0.0
        for p in parameters {
            let g = p.gradient.pointer
            var s = SIMD8<T>.zero, tail: T = 0
            let vectors = p.count / 8
            for v in 0..<vectors { let x = Self.load(g + 8 * v); s += x * x }
            for k in (8 * vectors)..<p.count { tail += g[k] * g[k] }
            sum += Double(s.sum() + tail)
        }
        return sum.squareRoot()
    }

    /// One update; gradients are first scaled so their global norm is at most `clipNorm` when given,
    /// and are left zero for the next step to accumulate into.
    public func step(clipNorm: Double? = nil, norm: Double? = nil) {
        steps += 1
        var gradientScale: T = 1
        if let clipNorm {
            let total = norm ?? gradientNorm()
            if total > clipNorm { gradientScale = T(clipNorm / (total + 1e-6)) }
        }
        let constants = Constants(scale: gradientScale, beta1: T(beta1), beta2: T(beta2), decay: T(weightDecay), epsilon: T(epsilon),
                                  stepSize: T(learningRate / (1 - Double.pow(beta1, Double(steps)))),
                                  correction2: T((1 - Double.pow(beta2, Double(steps))).squareRoot()))
        for (p, parameter) in parameters.enumerated() {
            let w = parameter.value.pointer, g = parameter.gradient.pointer
            let m = firstMoments[p].pointer, v = secondMoments[p].pointer, n = parameter.count
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
