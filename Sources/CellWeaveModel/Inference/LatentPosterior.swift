import CellWeaveCore

/// Each cell's posterior q(z | x), a diagonal Gaussian (means and variances, cells x latent), and
/// how a decoded product is read from it: at the means (`draws` 0), or averaged over draws of z
/// (scvi-tools' n_samples), which estimates the product's posterior expectation; where the
/// posterior is wide (RNA alone cannot tell two types apart) that is their average, not the value
/// at the point between them.
public struct LatentPosterior {
    public let mean: DenseMatrix
    public let variance: DenseMatrix
    public var draws = 0
    public var seed: UInt64 = 0

    public init(mean: DenseMatrix, variance: DenseMatrix, draws: Int = 0, seed: UInt64 = 0) {
        precondition(mean.rows == variance.rows && mean.cols == variance.cols, "means and variances of different shapes")
        precondition(draws >= 0, "a negative number of draws")
        self.mean = mean
        self.variance = variance
        self.draws = draws
        self.seed = seed
    }

    /// The posterior at its means alone (no variances), as the embedding is.
    public init(means: DenseMatrix) {
        self.init(mean: means, variance: DenseMatrix(rows: means.rows, cols: means.cols))
    }

    /// The latent rows of the cells of each chunk, in order: the means, or each draw in turn;
    /// `body` gets the chunk's cells and their rows of z. Draw k's normals come from the k-th
    /// stream of the seed, cell after cell, so the values do not depend on the chunks' size.
    func forEachLatent(chunks: [Range<Int>], _ body: (Range<Int>, UnsafePointer<Float>) -> Void) {
        let d = mean.cols, capacity = (chunks.map(\.count).max() ?? 0) * d
        var streams = (0..<draws).map { SeededGenerator(seed: seed &+ UInt64($0)) }
        let noise = GaussianNoise(capacity: capacity, parts: 1), epsilon = Buffer<Float>(count: capacity), z = Buffer<Float>(count: capacity)
        mean.values.withUnsafeBufferPointer { m in
            variance.values.withUnsafeBufferPointer { v in
                for range in chunks {
                    let offset = range.lowerBound * d, n = range.count * d
                    guard draws > 0 else { body(range, m.baseAddress! + offset); continue }
                    for k in 0..<draws {
                        noise.fill(epsilon.pointer, count: n, generator: &streams[k])
                        for j in 0..<n { z[j] = m[offset + j] + v[offset + j].squareRoot() * epsilon[j] }
                        body(range, z.pointer)
                    }
                }
            }
        }
    }

    /// Evaluations per cell: the weight of each is one over this.
    var evaluations: Int { max(draws, 1) }
}
