/// What a cell's residuals over genes come to for anomaly scoring: their mean square (or the
/// weighted mean of whatever per-gene statistic the caller gives) and the genes with the largest
/// absolute residuals, signed.
public struct ResidualSummary: Sendable, Equatable {
    public var score: Double
    /// The sum of the weights behind the score (the number of genes when unweighted), so that
    /// summaries over different features combine into one weighted mean.
    public var weight: Double
    public var topGenes: [(gene: Int, residual: Float)]

    public init(score: Double, weight: Double, topGenes: [(gene: Int, residual: Float)]) {
        self.score = score
        self.weight = weight
        self.topGenes = topGenes
    }

    /// Mean of `statistic` (default: the squared residuals) over the genes, weighted by `weights`
    /// when given, and the `top` largest |residual| (ties by gene index).
    public init(residuals: UnsafeBufferPointer<Double>, statistic: [Double]? = nil, weights: [Double]? = nil, top: Int) {
        let n = residuals.count
        var sum = 0.0, total = 0.0
        for g in 0..<n {
            let w = weights?[g] ?? 1
            sum += w * (statistic?[g] ?? residuals[g] * residuals[g])
            total += w
        }
        score = total > 0 ? sum / total : 0
        weight = total
        var best: [(gene: Int, residual: Float)] = []
        best.reserveCapacity(top + 1)
        for g in 0..<n where top > 0 {
            let r = residuals[g]
            if best.count < top || abs(r) > Double(abs(best[best.count - 1].residual)) {
                var k = best.count
                while k > 0 && abs(r) > Double(abs(best[k - 1].residual)) { k -= 1 }
                best.insert((g, Float(r)), at: k)
                if best.count > top { best.removeLast() }
            }
        }
        topGenes = best
    }

    public static func == (a: ResidualSummary, b: ResidualSummary) -> Bool {
        a.score == b.score && a.weight == b.weight && a.topGenes.map(\.gene) == b.topGenes.map(\.gene) && a.topGenes.map(\.residual) == b.topGenes.map(\.residual)
    }
}
