import CellWeaveCore
import Foundation

/// A 2-D layout of the connectivities graph by UMAP's optimisation (McInnes et al. 2018): edges
/// sampled in proportion to their weight pull their ends together, random negative samples push
/// apart, with umap-learn's curve 1 / (1 + a d^2b) (a, b for min_dist 0.5, spread 1, scanpy's
/// defaults), gradient clipping at 4 and a linearly decaying learning rate. It starts from the
/// first two principal components of the embedding, scaled to [-10, 10], instead of umap-learn's
/// spectral start. One thread and a seeded generator: a seed gives one layout.
public struct UMAPLayout: Sendable {
    public var epochs: Int?
    public var seed: UInt64 = 0
    public var negativeSampleRate = 5
    public static let a = 0.5830300205483709, b = 1.334166992455648

    public init() {}

    /// Cells x 2, row-major.
    public func layout(_ connectivities: CSRMatrix, embedding: DenseMatrix) throws -> [Double] {
        let n = connectivities.rows
        let epochs = self.epochs ?? (n <= 10_000 ? 500 : 200)
        var y = try Self.principalStart(embedding)
        // Edges too light to be sampled once in the run are dropped, as umap-learn drops them.
        let maxWeight = Double(connectivities.values.max() ?? 0)
        var heads: [Int] = [], tails: [Int] = [], period: [Double] = []
        for i in 0..<n {
            for k in connectivities.indptr[i]..<connectivities.indptr[i + 1] {
                let w = Double(connectivities.values[k])
                guard w >= maxWeight / Double(epochs), w > 0 else { continue }
                heads.append(i); tails.append(Int(connectivities.indices[k])); period.append(maxWeight / w)
            }
        }
        var next = period, negativePeriod = period.map { $0 / Double(negativeSampleRate) }, nextNegative = negativePeriod
        var rng = SeededGenerator(seed: seed)
        let a = Self.a, b = Self.b
        func clip(_ v: Double) -> Double { min(max(v, -4), 4) }
        for epoch in 0..<epochs {
            let alpha = 1 - Double(epoch) / Double(epochs), e = Double(epoch)
            for edge in heads.indices where next[edge] <= e {
                let j = heads[edge], k = tails[edge]
                var dx = y[2 * j] - y[2 * k], dy = y[2 * j + 1] - y[2 * k + 1]
                var d2 = dx * dx + dy * dy
                if d2 > 0 {
                    let coefficient = -2 * a * b * pow(d2, b - 1) / (a * pow(d2, b) + 1)
                    let gx = clip(coefficient * dx) * alpha, gy = clip(coefficient * dy) * alpha
                    y[2 * j] += gx; y[2 * j + 1] += gy
                    y[2 * k] -= gx; y[2 * k + 1] -= gy
                }
                next[edge] += period[edge]
                let negatives = Int((e - nextNegative[edge]) / negativePeriod[edge])
                for _ in 0..<max(negatives, 0) {
                    let other = Int(rng.next() % UInt64(n))
                    guard other != j else { continue }
                    dx = y[2 * j] - y[2 * other]; dy = y[2 * j + 1] - y[2 * other + 1]
                    d2 = dx * dx + dy * dy
                    if d2 > 0 {
                        let coefficient = 2 * b / ((0.001 + d2) * (a * pow(d2, b) + 1))
                        y[2 * j] += clip(coefficient * dx) * alpha
                        y[2 * j + 1] += clip(coefficient * dy) * alpha
                    } else {
                        y[2 * j] += 4 * alpha; y[2 * j + 1] += 4 * alpha
                    }
                }
                nextNegative[edge] += Double(max(negatives, 0)) * negativePeriod[edge]
            }
        }
        return y
    }

    /// The first two principal components of the embedding, each scaled to [-10, 10], signs fixed
    /// so that the largest loading is positive; a little seeded jitter separates duplicates.
    static func principalStart(_ x: DenseMatrix) throws -> [Double] {
        let n = x.rows, d = x.cols
        var mean = [Double](repeating: 0, count: d)
        for i in 0..<n { for k in 0..<d { mean[k] += Double(x[i, k]) / Double(n) } }
        var covariance = [Double](repeating: 0, count: d * d)
        for i in 0..<n {
            for r in 0..<d {
                let u = Double(x[i, r]) - mean[r]
                for c in r..<d { covariance[r * d + c] += u * (Double(x[i, c]) - mean[c]) }
            }
        }
        let eigen = try SymmetricEigen(upper: covariance, n: d)
        var y = [Double](repeating: 0, count: n * 2)
        var rng = SeededGenerator(seed: 1)
        for axis in 0..<min(2, d) {
            var v = (0..<d).map { eigen.vectors[$0 * d + axis] }
            if let largest = v.max(by: { abs($0) < abs($1) }), largest < 0 { v = v.map { -$0 } }
            var scores = (0..<n).map { i in (0..<d).reduce(0.0) { $0 + (Double(x[i, $1]) - mean[$1]) * v[$1] } }
            let scale = scores.map(abs).max() ?? 0
            if scale > 0 { scores = scores.map { 10 * $0 / scale } }
            for i in 0..<n { y[2 * i + axis] = scores[i] + 1e-4 * rng.nextGaussian() }
        }
        return y
    }
}
