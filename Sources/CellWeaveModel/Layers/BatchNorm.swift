import CellWeaveCore

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

    /// Threads a pass is split into, by features.
    public let parts: Int

    public init(name: String, features: Int, capacity: Int, parts: Int = 1) {
        self.name = name
        self.parts = max(parts, 1)
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

    /// In place on x (rows x features). Loops run along rows so that the inner loop is over
    /// features. Every statistic is a feature's own, so without a process group the features are
    /// split across the threads in one pass (the same values: each feature's sums run over its
    /// rows in order); with one, the passes meet at the collectives.
    public func forward(_ x: UnsafeMutablePointer<T>, rows: Int, training: Bool) {
        let n = features
        trainingMode = training
        if training {
            statistics.zero()
            statistics[n] = Double(rows)
            batchRows = Double(rows)
        }
        guard let processGroup, training else {
            forEachFeatureRange(rows: rows) { r in
                if training {
                    columnSums(x, rows: rows, r)
                    columnSquares(x, rows: rows, r)
                }
                normalize(x, rows: rows, training: training, r)
            }
            return
        }
        columnSums(x, rows: rows, 0..<n)
        processGroup.sum(statistics.pointer, count: n + 1)
        batchRows = statistics[n]
        columnSquares(x, rows: rows, 0..<n)
        processGroup.sum(statistics.pointer + n + 1, count: n)
        normalize(x, rows: rows, training: true, 0..<n)
    }

    private func forEachFeatureRange(rows: Int, _ body: (Range<Int>) -> Void) {
        ParallelLoop.forEachRange(of: features, parts: parts, values: rows * features, body)
    }

    private func columnSums(_ x: UnsafePointer<T>, rows: Int, _ r: Range<Int>) {
        let n = features, sums = statistics.pointer
        for i in 0..<rows { let row = x + i * n; for j in r { sums[j] += Double(row[j]) } }
    }

    /// The batch means (from the sums) and the squared deviations from them.
    private func columnSquares(_ x: UnsafePointer<T>, rows: Int, _ r: Range<Int>) {
        let n = features, sums = statistics.pointer, squares = statistics.pointer + n + 1, mean = self.mean.pointer
        for j in r { mean[j] = T(sums[j] / batchRows) }
        for i in 0..<rows { let row = x + i * n; for j in r { let d = Double(row[j] - mean[j]); squares[j] += d * d } }
    }

    /// The running statistics' update and the inverse standard deviations (batch statistics when
    /// training, running ones otherwise), then x normalised, scaled and shifted.
    private func normalize(_ x: UnsafeMutablePointer<T>, rows: Int, training: Bool, _ r: Range<Int>) {
        let n = features, xhat = normalized.pointer, gamma = scale.value.pointer, beta = shift.value.pointer
        let mean = self.mean.pointer, inv = inverseStd.pointer, count = batchRows, squares = statistics.pointer + n + 1
        if training {
            for j in r {
                let unbiased = count > 1 ? squares[j] / (count - 1) : squares[j]
                runningMean[j] = (1 - momentum) * runningMean[j] + momentum * mean[j]
                runningVariance[j] = (1 - momentum) * runningVariance[j] + momentum * T(unbiased)
                inv[j] = 1 / (T(squares[j] / count) + epsilon).squareRoot()
            }
        } else {
            for j in r { mean[j] = runningMean[j]; inv[j] = 1 / (runningVariance[j] + epsilon).squareRoot() }
        }
        for i in 0..<rows {
            let row = x + i * n, h = xhat + i * n
            for j in r {
                h[j] = (row[j] - mean[j]) * inv[j]
                row[j] = gamma[j] * h[j] + beta[j]
            }
        }
    }

    /// dy (rows x features) becomes dx in place; batch statistics, when the forward pass used
    /// them, are differentiated through. Split by features as the forward pass.
    public func backward(_ dy: UnsafeMutablePointer<T>, rows: Int) {
        let n = features
        statistics.zero()
        guard let processGroup, trainingMode else {
            forEachFeatureRange(rows: rows) { r in
                gradientSums(dy, rows: rows, r)
                inputGradient(dy, rows: rows, r)
            }
            return
        }
        gradientSums(dy, rows: rows, 0..<n)
        // The scale and shift gradients are summed with the others; the statistics' are needed whole here.
        processGroup.sum(statistics.pointer, count: 2 * n)
        inputGradient(dy, rows: rows, 0..<n)
    }

    /// Per feature, the sums of dy and of dy * xhat over the rows, added to the shift's and the
    /// scale's gradients.
    private func gradientSums(_ dy: UnsafePointer<T>, rows: Int, _ r: Range<Int>) {
        let n = features, xhat = normalized.pointer, sums = statistics.pointer, dots = statistics.pointer + n
        let dGamma = scale.gradient.pointer, dBeta = shift.gradient.pointer
        for i in 0..<rows {
            let g = dy + i * n, h = xhat + i * n
            for j in r { sums[j] += Double(g[j]); dots[j] += Double(g[j] * h[j]) }
        }
        for j in r { dGamma[j] += T(dots[j]); dBeta[j] += T(sums[j]) }
    }

    private func inputGradient(_ dy: UnsafeMutablePointer<T>, rows: Int, _ r: Range<Int>) {
        let n = features, xhat = normalized.pointer, gamma = scale.value.pointer, inv = inverseStd.pointer
        guard trainingMode else {
            // Running statistics are constants: the map is affine per feature.
            for i in 0..<rows { let g = dy + i * n; for j in r { g[j] *= gamma[j] * inv[j] } }
            return
        }
        let sums = statistics.pointer, dots = statistics.pointer + n
        let meanDy = gradientMeans.pointer, meanDot = gradientMeans.pointer + n
        for j in r { meanDy[j] = T(sums[j] / batchRows); meanDot[j] = T(dots[j] / batchRows) }
        for i in 0..<rows {
            let g = dy + i * n, h = xhat + i * n
            for j in r { g[j] = gamma[j] * inv[j] * (g[j] - meanDy[j] - h[j] * meanDot[j]) }
        }
    }
}
