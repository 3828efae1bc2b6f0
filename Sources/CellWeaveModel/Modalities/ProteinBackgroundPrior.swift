import CellWeaveCore
import RealModule

/// totalVI's empirical initialisation of the protein background prior (TOTALVI's
/// _get_totalvi_protein_priors): per batch, up to 100 cells drawn at random; for each, a
/// two-component Gaussian mixture fitted to log1p of its protein counts; the lower component's
/// mean and standard deviation averaged over those cells (mean of means, root of the summed
/// variances over cells squared). Used when the panel has more than 10 proteins, as totalVI does;
/// the prior is then learned with the rest of the model.
public enum ProteinBackgroundPrior {
    /// Per batch (0..<batches) the prior's mean and standard deviation; `batchOfRow[i]` is row i's
    /// batch; batches without cells get totalVI's fallback (0, 0.05).
    public static func estimate(_ counts: CSRMatrix, batchOfRow: [Int], batches: Int, cellsPerBatch: Int = 100,
                                seed: UInt64) -> (mean: [Double], scale: [Double]) {
        var generator = SeededGenerator(seed: seed)
        var means: [Double] = [], scales: [Double] = []
        for b in 0..<batches {
            let rows = batchOfRow.indices.filter { batchOfRow[$0] == b }
            guard !rows.isEmpty else { means.append(0); scales.append(0.05); continue }
            var mus: [Double] = [], sds: [Double] = []
            var values = [Double](repeating: 0, count: counts.cols)
            for _ in 0..<cellsPerBatch {
                let r = rows[Int(generator.next() % UInt64(rows.count))]
                for j in values.indices { values[j] = 0 }
                for k in counts.indptr[r]..<counts.indptr[r + 1] { values[Int(counts.indices[k])] = Double(counts.values[k]) }
                if let (mu, sd) = lowerComponent(values.map { Double.log(onePlus: $0) }) {
                    mus.append(mu); sds.append(sd)
                } else {
                    mus.append(0); sds.append(0.05)
                }
            }
            means.append(mus.reduce(0, +) / Double(mus.count))
            scales.append((sds.map { $0 * $0 }.reduce(0, +) / Double(cellsPerBatch * cellsPerBatch)).squareRoot())
        }
        return (means, scales)
    }

    /// The lower-mean component of a two-component 1-D Gaussian mixture fitted by EM (started
    /// from the lower and upper thirds); nil when the values do not support two components (all
    /// equal), where scikit-learn's fit fails to converge and totalVI falls back.
    static func lowerComponent(_ x: [Double]) -> (mean: Double, sd: Double)? {
        let sorted = x.sorted(), n = x.count
        guard n >= 2, sorted[0] < sorted[n - 1] else { return nil }
        let third = max(1, n / 3)
        var mu = [sorted[..<third].reduce(0, +) / Double(third), sorted[(n - third)...].reduce(0, +) / Double(third)]
        var variance = [1e-2, 1e-2], weight = [0.5, 0.5]
        // scikit-learn's reg_covar, so a component on tied values keeps a positive variance.
        let floor = 1e-6
        for _ in 0..<200 {
            var r0 = [Double](repeating: 0, count: n)
            for (i, v) in x.enumerated() {
                let p = (0..<2).map { k in weight[k] * Double.exp(-(v - mu[k]) * (v - mu[k]) / (2 * variance[k])) / variance[k].squareRoot() }
                let total = p[0] + p[1]
                r0[i] = total > 0 ? p[0] / total : (abs(v - mu[0]) < abs(v - mu[1]) ? 1 : 0)
            }
            let previous = mu
            for k in 0..<2 {
                let w = (0..<n).map { k == 0 ? r0[$0] : 1 - r0[$0] }, total = w.reduce(0, +)
                guard total > 1e-12 else { continue }
                mu[k] = zip(w, x).map(*).reduce(0, +) / total
                variance[k] = zip(w, x).map { $0 * ($1 - mu[k]) * ($1 - mu[k]) }.reduce(0, +) / total + floor
                weight[k] = total / Double(n)
            }
            if abs(mu[0] - previous[0]) + abs(mu[1] - previous[1]) < 1e-9 { break }
        }
        let lower = mu[0] <= mu[1] ? 0 : 1
        return (mu[lower], variance[lower].squareRoot())
    }
}
