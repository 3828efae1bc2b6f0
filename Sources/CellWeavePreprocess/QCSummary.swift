import Foundation

/// One sample's QC in numbers, for the JSON next to the report: aggregate it across samples.
public struct QCSummary: Codable, Sendable {
    public struct Distribution: Codable, Sendable {
        public var median: Double
        public var mad: Double
        public var min: Double
        public var max: Double

        public init(_ values: [Double]) {
            let finite = values.filter { !$0.isNaN }
            median = RobustStatistics.median(finite)
            mad = RobustStatistics.medianAbsoluteDeviation(finite)
            min = finite.min() ?? .nan
            max = finite.max() ?? .nan
        }
    }

    public struct RemovedCell: Codable, Sendable {
        public var barcode: String
        public var reasons: [String]
    }

    public var sample: String
    public var cellsBefore: Int
    public var cellsAfter: Int
    public var genesBefore: Int
    public var genesAfter: Int
    public var thresholds: QCFilter.Thresholds
    public var filter: QCFilter
    public var removedByReason: [String: Int]
    public var metrics: [String: Distribution]
    public var verdict: String
    public var verdictReasons: [String]
    public var removedCells: [RemovedCell]
    /// Surface-protein QC, for samples with an antibody panel.
    public var protein: ProteinQC?

    public init(sample: String, barcodes: [String], metrics: QCMetrics, filter: QCFilter, result: QCFilter.Result) {
        self.sample = sample
        cellsBefore = barcodes.count
        cellsAfter = result.keepCells.filter { $0 }.count
        genesBefore = result.keepGenes.count
        genesAfter = result.keepGenes.filter { $0 }.count
        thresholds = result.thresholds
        self.filter = filter
        removedByReason = result.removedByReason
        var distributions: [String: Distribution] = [:]
        for (name, values) in metrics.cells where !name.hasPrefix("log1p_") { distributions[name] = Distribution(values) }
        self.metrics = distributions
        removedCells = barcodes.indices.filter { !result.keepCells[$0] }.map { RemovedCell(barcode: barcodes[$0], reasons: result.reasons[$0]) }

        // Warnings a person should look at before trusting the sample.
        var reasons: [String] = []
        let removedFraction = Double(cellsBefore - cellsAfter) / Double(max(cellsBefore, 1))
        if removedFraction > 0.2 { reasons.append(String(format: "%.0f%% of cells removed (more than 20%%)", removedFraction * 100)) }
        if let genes = distributions["n_genes_by_counts"], genes.median < 200 {
            reasons.append(String(format: "median genes per cell %.0f (below 200)", genes.median))
        }
        if let mt = distributions["pct_counts_mt"], mt.median > 10 {
            reasons.append(String(format: "median mitochondrial share %.1f%% (above 10%%)", mt.median))
        }
        if cellsAfter < 100 { reasons.append("\(cellsAfter) cells left (fewer than 100)") }
        verdict = reasons.isEmpty ? "pass" : "warn"
        verdictReasons = reasons
    }
}
