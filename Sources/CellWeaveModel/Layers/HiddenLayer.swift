import CellWeaveCore

/// One of scVI's FCLayers: linear map (with covariate injection) -> normalisation -> ReLU -> dropout.
/// The output buffer is reused every step; backward needs only it, because a unit passes gradient
/// exactly when its output is positive (ReLU active and not dropped).
public final class HiddenLayer<T: ModelScalar> {
    public let linear: Linear<T>
    public let batchNorm: BatchNorm<T>?
    public let layerNorm: LayerNorm<T>?
    public let dropoutRate: Double
    public let output: Buffer<T>
    private var keepScale: T = 1
    /// The last dropout mask's words, two 32-bit uniforms each.
    private var maskWords: [UInt64] = []

    public init(name: String, inputs: Int, outputs: Int, covariateCategories: Int, normalization: Normalization,
                dropoutRate: Double, capacity: Int, parts: Int = 1, generator: inout SeededGenerator) {
        linear = Linear(name: name + ".linear", inputs: inputs, outputs: outputs,
                        covariateCategories: covariateCategories, parts: parts, generator: &generator)
        batchNorm = normalization == .batch ? BatchNorm(name: name + ".batch_norm", features: outputs, capacity: capacity, parts: parts) : nil
        layerNorm = normalization == .layer ? LayerNorm(features: outputs, capacity: capacity) : nil
        self.dropoutRate = dropoutRate
        output = Buffer(count: capacity * outputs)
        if dropoutRate > 0 { maskWords = Array(repeating: 0, count: (capacity * outputs + 1) / 2) }
    }

    public var parameters: [Parameter<T>] {
        linear.parameters + (batchNorm?.parameters ?? [])
    }

    public func forward(_ input: LayerInput<T>, rows: Int, categories: UnsafePointer<Int32>?, keys: Int,
                        training: Bool, share: MinibatchShare? = nil, generator: inout SeededGenerator) {
        let y = output.pointer, n = linear.outputs
        switch input {
        case .dense(let x): linear.forward(x, rows: rows, categories: categories, keys: keys, into: y)
        case .sparse(let batch): linear.forward(batch, categories: categories, keys: keys, into: y)
        }
        batchNorm?.forward(y, rows: rows, training: training)
        layerNorm?.forward(y, rows: rows)
        T.relu(y, count: rows * n)
        let dropping = training && dropoutRate > 0
        keepScale = dropping ? T(1 / (1 - dropoutRate)) : 1
        if dropping {
            // Two 32-bit uniforms per draw; the threshold compares integers.
            let threshold = UInt32((dropoutRate * 0x1p32).rounded(.down)), scale = keepScale
            if let share { return share.dropout(y, count: n, threshold: threshold, scale: scale, generator: &generator) }
            // The mask's words are drawn in order, then applied across the threads (the same mask).
            let count = rows * n, words = (count + 1) / 2
            if maskWords.count < words { maskWords = Array(repeating: 0, count: words) }
            var g = generator
            maskWords.withUnsafeMutableBufferPointer { w in
                for k in 0..<words { w[k] = g.next() }
                let w = UnsafeBufferPointer(w)
                ParallelLoop.forEachRange(of: words, parts: linear.parts, values: count) { range in
                    for k in range {
                        let bits = w[k], i = 2 * k
                        y[i] *= UInt32(truncatingIfNeeded: bits) < threshold ? 0 : scale
                        if i + 1 < count { y[i + 1] *= UInt32(truncatingIfNeeded: bits >> 32) < threshold ? 0 : scale }
                    }
                }
            }
            generator = g
        }
    }

    /// dy (rows x outputs) is overwritten; dW, db accumulate; dx is written when asked.
    public func backward(_ dy: UnsafeMutablePointer<T>, input: LayerInput<T>, rows: Int, categories: UnsafePointer<Int32>?,
                         keys: Int, inputGradient dx: UnsafeMutablePointer<T>?) {
        T.reluBackward(output: output.pointer, gradient: dy, scale: keepScale, count: rows * linear.outputs)
        layerNorm?.backward(dy, rows: rows)
        batchNorm?.backward(dy, rows: rows)
        switch input {
        case .dense(let x):
            linear.backward(dy, input: x, rows: rows, categories: categories, keys: keys, inputGradient: dx)
        case .sparse(let batch):
            linear.backward(dy, input: batch, categories: categories, keys: keys)
        }
    }
}
