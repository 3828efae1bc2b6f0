import Foundation

/// LISI (Korsunsky et al. 2019) as scib-metrics computes it: per cell, Gaussian weights on its kNN
/// distances (itself excluded) with the bandwidth found by bisection so that their perplexity is
/// the target, then 1 / sum over labels of (weight of the label)^2: the effective number of labels
/// around the cell.
public enum LocalInverseSimpsonIndex {
    /// Per-cell LISI of `labels` (codes 0..<count) over the neighbours; perplexity defaults to
    /// floor(k / 3), as scib-metrics'. A cell whose weights vanish gets -1, as there.
    public static func perCell(_ nn: NearestNeighbors, labels: [Int], perplexity: Double? = nil, tolerance: Double = 1e-5) -> [Double] {
        let k = nn.k, target = log(perplexity ?? (Double(k) / 3).rounded(.down))
        let count = (labels.max() ?? -1) + 1
        var p = [Double](repeating: 0, count: k), perLabel = [Double](repeating: 0, count: count)
        return (0..<nn.cells).map { i in
            let d = nn.distances[(i * k)..<((i + 1) * k)], index = nn.indices[(i * k)..<((i + 1) * k)]
            // Entropy H and weights P at bandwidth beta.
            func entropy(_ beta: Double) -> Double {
                var sum = 0.0, weighted = 0.0
                for (m, j) in index.enumerated() {
                    let w = Int(j) == i ? 0 : exp(-d[d.startIndex + m] * beta)
                    p[m] = w
                    sum += w
                    weighted += d[d.startIndex + m] * w
                }
                guard sum > 0 else { for m in 0..<k { p[m] = 0 }; return 0 }
                for m in 0..<k { p[m] /= sum }
                return log(sum) + beta * weighted / sum
            }
            var beta = 1.0, low = -Double.infinity, high = Double.infinity
            var h = entropy(beta), tries = 0
            while abs(h - target) >= tolerance && tries < 50 {
                if h - target > 0 {
                    low = beta
                    beta = high == .infinity ? beta * 2 : (beta + high) / 2
                } else {
                    high = beta
                    beta = low == -.infinity ? beta / 2 : (beta + low) / 2
                }
                h = entropy(beta)
                tries += 1
            }
            guard h != 0 else { return -1 }
            for c in 0..<count { perLabel[c] = 0 }
            for (m, j) in index.enumerated() { perLabel[labels[Int(j)]] += p[m] }
            return 1 / perLabel.reduce(0) { $0 + $1 * $1 }
        }
    }

    /// scib's scaled iLISI: (median LISI of batches - 1) / (batches - 1); 1 is perfect mixing.
    public static func integration(_ nn: NearestNeighbors, batches: [Int]) -> Double {
        let count = Set(batches).count
        return (median(perCell(nn, labels: batches)) - 1) / Double(count - 1)
    }

    /// scib's scaled cLISI: (labels - median LISI of labels) / (labels - 1); 1 is pure neighbourhoods.
    public static func label(_ nn: NearestNeighbors, labels: [Int]) -> Double {
        let count = Set(labels).count
        return (Double(count) - median(perCell(nn, labels: labels))) / Double(count - 1)
    }

    /// numpy's median (nanmedian: NaNs left out).
    static func median(_ values: [Double]) -> Double {
        let v = values.filter { !$0.isNaN }.sorted()
        guard !v.isEmpty else { return .nan }
        return v.count % 2 == 1 ? v[v.count / 2] : (v[v.count / 2 - 1] + v[v.count / 2]) / 2
    }
}
