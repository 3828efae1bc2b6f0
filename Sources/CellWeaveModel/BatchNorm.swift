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

    public init(name: String, features: Int, capacity: Int) {
        self.name = name
        self.features = features
        scale = Parameter(name: name + ".weight", shape: [features], initial: Array(repeating: 1, count: features))
        shift = Parameter(name: name + ".bias", shape: [features])
        runningMean = Buffer(count: features)
        runningVariance = Buffer(Array(repeating: 1, count: features))
        normalized = Buffer(count: capacity * features)
        inverseStd = Buffer(count: features)
    }

    /// In place on x (rows x features).
    public func forward(_ x: UnsafeMutablePointer<T>, rows: Int, training: Bool) {
        let n = features, xhat = normalized.pointer, gamma = scale.value.pointer, beta = shift.value.pointer
        for j in 0..<n {
            var mean: T = 0, variance: T = 0
            if training {
                for i in 0..<rows { mean += x[i * n + j] }
                mean /= T(rows)
                for i in 0..<rows { let d = x[i * n + j] - mean; variance += d * d }
                let unbiased = rows > 1 ? variance / T(rows - 1) : variance
                variance /= T(rows)
                runningMean[j] = (1 - momentum) * runningMean[j] + momentum * mean
                runningVariance[j] = (1 - momentum) * runningVariance[j] + momentum * unbiased
            } else {
                mean = runningMean[j]; variance = runningVariance[j]
            }
            let inv = 1 / (variance + epsilon).squareRoot()
            inverseStd[j] = inv
            for i in 0..<rows {
                let h = (x[i * n + j] - mean) * inv
                xhat[i * n + j] = h
                x[i * n + j] = gamma[j] * h + beta[j]
            }
        }
    }

    /// dy (rows x features) becomes dx in place; the batch statistics are differentiated through.
    public func backward(_ dy: UnsafeMutablePointer<T>, rows: Int) {
        let n = features, xhat = normalized.pointer, gamma = scale.value.pointer
        let dGamma = scale.gradient.pointer, dBeta = shift.gradient.pointer
        for j in 0..<n {
            var sum: T = 0, dot: T = 0
            for i in 0..<rows { let g = dy[i * n + j]; sum += g; dot += g * xhat[i * n + j] }
            dGamma[j] += dot
            dBeta[j] += sum
            let k = gamma[j] * inverseStd[j] / T(rows)
            for i in 0..<rows {
                dy[i * n + j] = k * (T(rows) * dy[i * n + j] - sum - xhat[i * n + j] * dot)
            }
        }
    }
}
