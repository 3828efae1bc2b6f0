import CellWeaveCore
import RealModule

/// Per-cell and per-gene quality metrics, named and computed as scanpy's
/// `pp.calculate_qc_metrics` names and computes them.
public struct QCMetrics: Sendable {
    /// Ordered per-cell columns, e.g. total_counts, n_genes_by_counts, pct_counts_mt.
    public var cells: [(name: String, values: [Double])]
    /// Ordered per-gene columns: n_cells_by_counts, mean_counts, pct_dropout_by_counts, total_counts.
    public var genes: [(name: String, values: [Double])]
    /// Which genes each QC variable matched, by name.
    public var variableGenes: [String: [Bool]]

    public func cell(_ name: String) -> [Double]? { cells.first { $0.name == name }?.values }
    public func gene(_ name: String) -> [Double]? { genes.first { $0.name == name }?.values }

    /// - Parameters:
    ///   - counts: cells x genes raw counts.
    ///   - geneNames: var names, matched against each variable's prefixes.
    ///   - percentTop: n for pct_counts_in_top_n_genes; values above the gene count are skipped.
    public init(counts: CSRMatrix, geneNames: [String], variables: [QCVariable] = [.mitochondrial, .ribosomal],
                percentTop: [Int] = [50, 100, 200, 500]) {
        let nCells = counts.rows, nGenes = counts.cols
        let tops = percentTop.filter { $0 <= nGenes }.sorted()
        var total = [Double](repeating: 0, count: nCells)
        var detected = [Double](repeating: 0, count: nCells)
        var topShares = [[Double]](repeating: [Double](repeating: 0, count: nCells), count: tops.count)
        let masks = variables.map { v in geneNames.map(v.matches) }
        var variableTotals = [[Double]](repeating: [Double](repeating: 0, count: nCells), count: variables.count)

        let indptr = counts.indptr, indices = counts.indices, values = counts.values
        var row: [Float] = []
        for c in 0..<nCells {
            let lo = indptr[c], hi = indptr[c + 1]
            var sum = 0.0, nonzero = 0
            row.removeAll(keepingCapacity: true)
            for k in lo..<hi where values[k] != 0 {
                sum += Double(values[k])
                nonzero += 1
                row.append(values[k])
            }
            total[c] = sum
            detected[c] = Double(nonzero)
            for (v, mask) in masks.enumerated() {
                var s = 0.0
                for k in lo..<hi where mask[Int(indices[k])] { s += Double(values[k]) }
                variableTotals[v][c] = s
            }
            if !tops.isEmpty {
                row.sort(by: >)
                var acc = 0.0, taken = 0
                for (t, n) in tops.enumerated() {
                    while taken < min(n, row.count) {
                        acc += Double(row[taken])
                        taken += 1
                    }
                    topShares[t][c] = acc / sum * 100 // 0/0 = NaN for empty cells, as scanpy
                }
            }
        }

        cells = [
            ("n_genes_by_counts", detected),
            ("log1p_n_genes_by_counts", detected.map { Double.log(onePlus: $0) }),
            ("total_counts", total),
            ("log1p_total_counts", total.map { Double.log(onePlus: $0) }),
        ]
        for (t, n) in tops.enumerated() { cells.append(("pct_counts_in_top_\(n)_genes", topShares[t])) }
        for (v, variable) in variables.enumerated() {
            let t = variableTotals[v]
            cells.append(("total_counts_\(variable.name)", t))
            cells.append(("log1p_total_counts_\(variable.name)", t.map { Double.log(onePlus: $0) }))
            cells.append(("pct_counts_\(variable.name)", zip(t, total).map { $0 / $1 * 100 }))
        }

        let geneTotals = counts.columnSums()
        var geneDetected = [Double](repeating: 0, count: nGenes)
        for k in 0..<values.count where values[k] != 0 { geneDetected[Int(indices[k])] += 1 }
        let mean = geneTotals.map { $0 / Double(max(nCells, 1)) }
        genes = [
            ("n_cells_by_counts", geneDetected),
            ("mean_counts", mean),
            ("log1p_mean_counts", mean.map { Double.log(onePlus: $0) }),
            ("pct_dropout_by_counts", geneDetected.map { (1 - $0 / Double(max(nCells, 1))) * 100 }),
            ("total_counts", geneTotals),
            ("log1p_total_counts", geneTotals.map { Double.log(onePlus: $0) }),
        ]
        variableGenes = Dictionary(uniqueKeysWithValues: zip(variables.map(\.name), masks))
    }
}
