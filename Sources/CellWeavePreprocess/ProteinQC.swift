import CellWeaveCore

/// Surface-protein (antibody-derived tag) QC of one sample, beside the RNA QC: per cell the ADT
/// counts and the proteins detected (named as scanpy's calculate_qc_metrics names them on a
/// protein AnnData), their distributions before and after the RNA filters, and each protein's
/// share of all ADT counts. Cells are filtered on RNA only; protein is reported, not filtered on.
public struct ProteinQC: Codable, Sendable {
    public var modality: String
    public var proteins: Int
    /// Cells of the sample measured for protein, before and after QC.
    public var cellsBefore: Int
    public var cellsAfter: Int
    /// Per cell with protein, before QC.
    public var totalCounts: QCSummary.Distribution
    public var proteinsDetected: QCSummary.Distribution
    /// The same over the cells QC keeps.
    public var totalCountsAfter: QCSummary.Distribution
    public var proteinsDetectedAfter: QCSummary.Distribution
    /// Each protein's percentage of the sample's ADT counts, largest first.
    public var topProteins: [Share]
    /// Cells measured with no ADT count at all (kept: a measured zero is a measurement).
    public var cellsWithoutCounts: Int

    public struct Share: Codable, Sendable {
        public var name: String
        public var percent: Double
    }

    /// Per-cell metrics of a protein count matrix (its rows are the cells with protein).
    public static func cellMetrics(_ counts: CSRMatrix) -> (totalCounts: [Double], detected: [Double]) {
        (counts.rowSums(), (0..<counts.rows).map { c in Double((counts.indptr[c]..<counts.indptr[c + 1]).filter { counts.values[$0] != 0 }.count) })
    }

    /// - Parameters:
    ///   - counts: the protein modality's counts, one row per cell measured.
    ///   - kept: per row, whether RNA QC keeps the cell.
    public init(modality: String, counts: CSRMatrix, proteinNames: [String], kept: [Bool]) {
        let (total, detected) = Self.cellMetrics(counts)
        self.modality = modality
        proteins = counts.cols
        cellsBefore = counts.rows
        cellsAfter = kept.filter { $0 }.count
        totalCounts = QCSummary.Distribution(total)
        proteinsDetected = QCSummary.Distribution(detected)
        let keptRows = kept.indices.filter { kept[$0] }
        totalCountsAfter = QCSummary.Distribution(keptRows.map { total[$0] })
        proteinsDetectedAfter = QCSummary.Distribution(keptRows.map { detected[$0] })
        let perProtein = counts.columnSums(), all = max(perProtein.reduce(0, +), 1)
        topProteins = perProtein.indices.sorted { perProtein[$0] > perProtein[$1] }.prefix(20)
            .map { Share(name: proteinNames[$0], percent: perProtein[$0] / all * 100) }
        cellsWithoutCounts = total.filter { $0 == 0 }.count
    }
}
