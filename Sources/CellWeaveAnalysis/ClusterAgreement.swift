import Foundation

/// Agreement of two labelings of the same cells, as scikit-learn computes it: normalised mutual
/// information (arithmetic mean of the entropies) and the adjusted Rand index.
public enum ClusterAgreement {
    /// The contingency table (n_ij by label pair) and the two sets of marginal counts. Sums over
    /// them go in sorted key order: Swift's dictionary order changes from run to run.
    static func counts(_ a: [Int], _ b: [Int]) -> (table: [[Int]: Int], rows: [Int: Int], cols: [Int: Int]) {
        precondition(a.count == b.count)
        var table = [[Int]: Int](), rows = [Int: Int](), cols = [Int: Int]()
        for (x, y) in zip(a, b) {
            table[[x, y], default: 0] += 1
            rows[x, default: 0] += 1
            cols[y, default: 0] += 1
        }
        return (table, rows, cols)
    }

    public static func normalizedMutualInformation(_ a: [Int], _ b: [Int]) -> Double {
        let n = Double(a.count)
        let (table, rows, cols) = counts(a, b)
        // One cluster on both sides is perfect agreement, as in scikit-learn.
        if rows.count == 1 && cols.count == 1 { return 1 }
        func entropy(_ counts: [Int: Int]) -> Double {
            counts.sorted { $0.key < $1.key }.reduce(0.0) { let p = Double($1.value) / n; return $0 - p * log(p) }
        }
        let ha = entropy(rows), hb = entropy(cols)
        var mi = 0.0
        for (pair, count) in table.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            let nij = Double(count)
            mi += nij / n * log(nij * n / (Double(rows[pair[0]]!) * Double(cols[pair[1]]!)))
        }
        let mean = (ha + hb) / 2
        return mean > 0 ? max(mi, 0) / mean : 0
    }

    public static func adjustedRandIndex(_ a: [Int], _ b: [Int]) -> Double {
        let (table, rows, cols) = counts(a, b)
        func pairs(_ x: Int) -> Double { Double(x) * Double(x - 1) / 2 }
        // Pair counts are whole numbers: their sums are exact in any order.
        let index = table.values.reduce(0.0) { $0 + pairs($1) }
        let sumRows = rows.values.reduce(0.0) { $0 + pairs($1) }, sumCols = cols.values.reduce(0.0) { $0 + pairs($1) }
        let expected = sumRows * sumCols / pairs(a.count), maximum = (sumRows + sumCols) / 2
        // Identical trivial labelings (one cluster, or all singletons) agree perfectly.
        if maximum == expected { return 1 }
        return (index - expected) / (maximum - expected)
    }
}
