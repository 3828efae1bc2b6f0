/// Batch normalisation as torch.nn.BatchNorm1d with scVI's settings (momentum 0.01, eps 1e-3):
/// batch statistics while training, running statistics (unbiased variance) at inference. In
/// data-parallel training the batch statistics are those of the global minibatch: the per-feature
/// sums are summed across the processes.
public final class BatchNorm<T: ModelScalar> {
    public let features: Int
    public let scale: Parameter<T>
    public let shift: Parameter<T>
    public let runningMean: Buffer<T>
    public let runningVariance: Buffer<T>
    public let name: String
    let momentum: T = 0.01
    let epsilon: T = 1e-3
    private let normalized: Buffer<T>
    private let inverseStd: Buffer<T>
    private let mean: Buffer<T>
    /// Backward: the means over the minibatch of dy and of dy * xhat, per feature.
    private let gradientMeans: Buffer<T>
    /// Per-feature sums in Double: forward the sum, the row count, then the squared deviations;
    /// backward the sum and the dot product. In Double a sum is the same, rounded to T, in any
    /// order, so a minibatch split over processes gets the statistics one process gets (in T they
    /// would differ in the last bit, enough to flip a ReLU and let the runs drift apart).
    private let statistics: Buffer<Double>
    /// Rows of the last training minibatch, over every process.
    private var batchRows = 0.0
    /// The processes whose rows make one minibatch (nil: this one alone).
    public var processGroup: (any ProcessGroup)?
    /// Whether the last forward pass used batch statistics (they are then differentiated through).
    private var trainingMode = true

    public init(name: String, features: Int, capacity: Int) {
        self.name = name
        self.features = features
        scale = Parameter(name: name + ".weight", shape: [features], initial: Array(repeating: 1, count: features))
        shift = Parameter(name: name + ".bias", shape: [features])
        runningMean = Buffer(count: features)
        runningVariance = Buffer(Array(repeating: 1, count: features))
        normalized = Buffer(count: capacity * features)
        inverseStd = Buffer(count: features)
        mean = Buffer(count: features)
        gradientMeans = Buffer(count: 2 * features)
        statistics = Buffer(count: 2 * features + 1)
    }

    public var parameters: [Parameter<T>] { [scale, shift] }
    /// The running statistics by name: state saved with the weights, not trained.
    public var runningStatistics: [(name: String, buffer: Buffer<T>)] {
        [(name + ".running_mean", runningMean), (name + ".running_var", runningVariance)]
    }

    /// In place on x (rows x features). Loops run along rows so that the inner loop is over features.
    public func forward(_ x: UnsafeMutablePointer<T>, rows: Int, training: Bool) {
        let n = features, xhat = normalized.pointer, gamma = scale.value.pointer, beta = shift.value.pointer
        let mean = self.mean.pointer, inv = inverseStd.pointer
        trainingMode = training
        if training {
            statistics.zero()
            let sums = statistics.pointer, squares = statistics.pointer + n + 1
            for i in 0..<rows { let row = x + i * n; for j in 0..<n { sums[j] += Double(row[j]) } }
            sums[n] = Double(rows)
            processGroup?.sum(sums, count: n + 1)
            let count = sums[n]
            batchRows = count
            for j in 0..<n { mean[j] = T(sums[j] / count) }
            for i in 0..<rows { let row = x + i * n; for j in 0..<n { let d = Double(row[j] - mean[j]); squares[j] += d * d } }
            processGroup?.sum(squares, count: n)
            for j in 0..<n {
                let unbiased = count > 1 ? squares[j] / (count - 1) : squares[j]
                runningMean[j] = (1 - momentum) * runningMean[j] + momentum * mean[j]
                runningVariance[j] = (1 - momentum) * runningVariance[j] + momentum * T(unbiased)
                inv[j] = 1 / (T(squares[j] / count) + epsilon).squareRoot()
            }
        } else {
            for j in 0..<n { mean[j] = runningMean[j]; inv[j] = 1 / (runningVariance[j] + epsilon).squareRoot() }
        }
        for i in 0..<rows {
            let row = x + i * n, h = xhat + i * n
            for j in 0..<n {
                h[j] = (row[j] - mean[j]) * inv[j]
                row[j] = gamma[j] * h[j] + beta[j]
            }
        }
    }

    /// dy (rows x features) becomes dx in place; batch statistics, when the forward pass used
    /// them, are differentiated through.
    public func backward(_ dy: UnsafeMutablePointer<T>, rows: Int) {
        let n = features, xhat = normalized.pointer, gamma = scale.value.pointer
        let dGamma = scale.gradient.pointer, dBeta = shift.gradient.pointer
        let sums = statistics.pointer, dots = statistics.pointer + n
        statistics.zero()
        for i in 0..<rows {
            let g = dy + i * n, h = xhat + i * n
            for j in 0..<n { sums[j] += Double(g[j]); dots[j] += Double(g[j] * h[j]) }
        }
        for j in 0..<n { dGamma[j] += T(dots[j]); dBeta[j] += T(sums[j]) }
        let inv = inverseStd.pointer
        guard trainingMode else {
            // Running statistics are constants: the map is affine per feature.
            for i in 0..<rows { let g = dy + i * n; for j in 0..<n { g[j] *= gamma[j] * inv[j] } }
            return
        }
        // The scale and shift gradients are summed with the others; the statistics' are needed whole here.
        processGroup?.sum(sums, count: 2 * n)
        let meanDy = gradientMeans.pointer, meanDot = gradientMeans.pointer + n
        for j in 0..<n { meanDy[j] = T(sums[j] / batchRows); meanDot[j] = T(dots[j] / batchRows) }
        for i in 0..<rows {
            let g = dy + i * n, h = xhat + i * n
            for j in 0..<n { g[j] = gamma[j] * inv[j] * (g[j] - meanDy[j] - h[j] * meanDot[j]) }
        }
    }
}
