/// Batch normalisation as torch.nn.BatchNorm1d with scVI's settings (momentum 0.01, eps 1e-3):
/// batch statistics while training, running statistics (unbiased variance) at inference.
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
    /// Per-feature sums: mean and variance forward, sum and dot product backward.
    private let statistics: Buffer<T>
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
        statistics = Buffer(count: 2 * features)
    }

    public var parameters: [Parameter<T>] { [scale, shift] }
    /// The running statistics by name: state saved with the weights, not trained.
    public var runningStatistics: [(name: String, buffer: Buffer<T>)] {
        [(name + ".running_mean", runningMean), (name + ".running_var", runningVariance)]
    }

    /// In place on x (rows x features). Loops run along rows so that the inner loop is over features.
    public func forward(_ x: UnsafeMutablePointer<T>, rows: Int, training: Bool) {
        let n = features, xhat = normalized.pointer, gamma = scale.value.pointer, beta = shift.value.pointer
        let mean = statistics.pointer, variance = statistics.pointer + n
        trainingMode = training
        if training {
            statistics.zero()
            for i in 0..<rows { let row = x + i * n; for j in 0..<n { mean[j] += row[j] } }
            for j in 0..<n { mean[j] /= T(rows) }
            for i in 0..<rows { let row = x + i * n; for j in 0..<n { let d = row[j] - mean[j]; variance[j] += d * d } }
            for j in 0..<n {
                let unbiased = rows > 1 ? variance[j] / T(rows - 1) : variance[j]
                variance[j] /= T(rows)
                runningMean[j] = (1 - momentum) * runningMean[j] + momentum * mean[j]
                runningVariance[j] = (1 - momentum) * runningVariance[j] + momentum * unbiased
            }
        } else {
            for j in 0..<n { mean[j] = runningMean[j]; variance[j] = runningVariance[j] }
        }
        for j in 0..<n { inverseStd[j] = 1 / (variance[j] + epsilon).squareRoot() }
        let inv = inverseStd.pointer
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
        let sum = statistics.pointer, dot = statistics.pointer + n
        statistics.zero()
        for i in 0..<rows {
            let g = dy + i * n, h = xhat + i * n
            for j in 0..<n { sum[j] += g[j]; dot[j] += g[j] * h[j] }
        }
        for j in 0..<n { dGamma[j] += dot[j]; dBeta[j] += sum[j] }
        let inv = inverseStd.pointer, count = T(rows)
        guard trainingMode else {
            // Running statistics are constants: the map is affine per feature.
            for i in 0..<rows { let g = dy + i * n; for j in 0..<n { g[j] *= gamma[j] * inv[j] } }
            return
        }
        for j in 0..<n { sum[j] /= count; dot[j] /= count }
        for i in 0..<rows {
            let g = dy + i * n, h = xhat + i * n
            for j in 0..<n { g[j] = gamma[j] * inv[j] * (g[j] - sum[j] - h[j] * dot[j]) }
        }
    }
}
