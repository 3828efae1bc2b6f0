/// Layer normalisation over each row's features, without affine parameters (as scVI builds it).
public final class LayerNorm<T: ModelScalar> {
    public let features: Int
    let epsilon: T = 1e-5
    private let normalized: Buffer<T>
    private let inverseStd: Buffer<T>

    public init(features: Int, capacity: Int) {
        self.features = features
        normalized = Buffer(count: capacity * features)
        inverseStd = Buffer(count: capacity)
    }

    public func forward(_ x: UnsafeMutablePointer<T>, rows: Int) {
        let n = features
        for i in 0..<rows {
            let row = x + i * n, xhat = normalized.pointer + i * n
            var mean: T = 0, variance: T = 0
            for j in 0..<n { mean += row[j] }
            mean /= T(n)
            for j in 0..<n { let d = row[j] - mean; variance += d * d }
            let inv = 1 / (variance / T(n) + epsilon).squareRoot()
            inverseStd[i] = inv
            for j in 0..<n { xhat[j] = (row[j] - mean) * inv; row[j] = xhat[j] }
        }
    }

    public func backward(_ dy: UnsafeMutablePointer<T>, rows: Int) {
        let n = features
        for i in 0..<rows {
            let g = dy + i * n, xhat = normalized.pointer + i * n
            var sum: T = 0, dot: T = 0
            for j in 0..<n { sum += g[j]; dot += g[j] * xhat[j] }
            let inv = inverseStd[i]
            for j in 0..<n { g[j] = inv * (g[j] - sum / T(n) - xhat[j] * dot / T(n)) }
        }
    }
}
