import CellWeaveCore
import RealModule

/// Which cells and genes to keep: fixed thresholds, and data-driven outliers by median absolute
/// deviations (the sc-best-practices recipe: 5 MADs on log counts and log genes, 3 MADs on the
/// mitochondrial share, never below a floor).
public struct QCFilter: Sendable, Codable, Equatable {
    public var minCounts: Double?
    public var maxCounts: Double?
    public var minGenes: Double?
    public var maxGenes: Double?
    public var maxPctMitochondrial: Double?
    public var minCellsPerGene: Int = 0
    /// MADs from the median of log1p total counts and log1p genes beyond which a cell is an outlier; nil disables.
    public var countMADs: Double? = 5
    /// MADs above the median mitochondrial share beyond which a cell is an outlier; nil disables.
    public var mitochondrialMADs: Double? = 3
    /// A cell is never a mitochondrial outlier below this percentage, however tight the sample.
    public var mitochondrialFloor: Double = 8

    public init() {}

    /// The thresholds actually applied to one sample, for reports.
    public struct Thresholds: Sendable, Codable, Equatable {
        public var totalCounts: ClosedRange<Double>
        public var genes: ClosedRange<Double>
        public var pctMitochondrial: Double
    }

    public struct Result: Sendable {
        public var keepCells: [Bool]
        /// Reasons each removed cell failed, empty for kept cells.
        public var reasons: [[String]]
        public var keepGenes: [Bool]
        public var thresholds: Thresholds
        public var removedByReason: [String: Int]
    }

    /// Cells are judged on their metrics; genes then on the cells that remain, so that no gene
    /// is left without counts after the cells that held them are gone.
    public func apply(_ m: QCMetrics, counts: CSRMatrix) -> Result {
        let total = m.cell("total_counts")!, genes = m.cell("n_genes_by_counts")!
        let mt = m.cell("pct_counts_mt") ?? [Double](repeating: 0, count: total.count)
        // Outliers are judged on log1p values, as scipy's MAD on the log metrics; the bounds are
        // also reported on the count scale.
        let logTotal = total.map { Double.log(onePlus: $0) }, logGenes = genes.map { Double.log(onePlus: $0) }
        func madRange(_ logs: [Double]) -> ClosedRange<Double> {
            guard let n = countMADs else { return -Double.infinity...Double.infinity }
            let med = RobustStatistics.median(logs), mad = RobustStatistics.medianAbsoluteDeviation(logs)
            return (med - n * mad)...(med + n * mad)
        }
        let logCountRange = madRange(logTotal), logGeneRange = madRange(logGenes)
        func countScale(_ r: ClosedRange<Double>, _ lo: Double?, _ hi: Double?) -> ClosedRange<Double> {
            let a = max(Double.expMinusOne(r.lowerBound), lo ?? -.infinity), b = min(Double.expMinusOne(r.upperBound), hi ?? .infinity)
            return a...max(a, b)
        }
        let countRange = countScale(logCountRange, minCounts, maxCounts)
        let geneRange = countScale(logGeneRange, minGenes, maxGenes)
        var mtLimit = Double.infinity
        if let n = mitochondrialMADs {
            let med = RobustStatistics.median(mt), mad = RobustStatistics.medianAbsoluteDeviation(mt)
            mtLimit = med.isNaN ? .infinity : max(med + n * mad, mitochondrialFloor)
        }
        if let fixed = maxPctMitochondrial { mtLimit = min(mtLimit, fixed) }

        var reasons = [[String]](repeating: [], count: total.count)
        var removed: [String: Int] = [:]
        for c in total.indices {
            var why: [String] = []
            if logTotal[c] < logCountRange.lowerBound || total[c] < minCounts ?? -.infinity { why.append("low_counts") }
            if logTotal[c] > logCountRange.upperBound || total[c] > maxCounts ?? .infinity { why.append("high_counts") }
            if logGenes[c] < logGeneRange.lowerBound || genes[c] < minGenes ?? -.infinity { why.append("low_genes") }
            if logGenes[c] > logGeneRange.upperBound || genes[c] > maxGenes ?? .infinity { why.append("high_genes") }
            if mt[c] > mtLimit { why.append("high_pct_mt") }
            if total[c] == 0 && why.isEmpty { why.append("no_counts") }
            for r in why { removed[r, default: 0] += 1 }
            reasons[c] = why
        }
        let keepCells = reasons.map(\.isEmpty)
        var cellsPerGene = [Int](repeating: 0, count: counts.cols)
        for c in 0..<counts.rows where keepCells[c] {
            for k in counts.indptr[c]..<counts.indptr[c + 1] where counts.values[k] != 0 { cellsPerGene[Int(counts.indices[k])] += 1 }
        }
        return Result(keepCells: keepCells, reasons: reasons,
                      keepGenes: cellsPerGene.map { $0 >= minCellsPerGene },
                      thresholds: Thresholds(totalCounts: countRange, genes: geneRange, pctMitochondrial: mtLimit),
                      removedByReason: removed)
    }
}
