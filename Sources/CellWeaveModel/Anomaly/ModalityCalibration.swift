/// Calibration of scores that use every modality a cell has: a cell with protein is calibrated
/// against the reference cells with protein (its score over genes and proteins); a cell without,
/// or every cell when too few reference cells have protein, against every reference cell's score
/// over genes alone, each reference cell placed by its RNA alone as such a cell is (a posterior
/// that saw protein fits the genes better, and would make the RNA-only p-values too small).
/// A missing modality never counts, and each score is compared with scores of the same kind.
public struct ModalityCalibration: Sendable {
    public let rna: AnomalyCalibration
    public let withProtein: AnomalyCalibration?

    /// `rnaAlone`: the same reference cells scored with `rnaAlone` (default: `reference`, right
    /// for a model of RNA only). `requireFlaggable` as in `AnomalyCalibration`, for the RNA basis;
    /// the RNA + protein basis is used only where its reference can flag cells.
    public init(reference: [AnomalyScorer.CellScore], rnaAlone: [AnomalyScorer.CellScore]? = nil, alpha: Double,
                requireFlaggable: Bool = true) throws {
        rna = try AnomalyCalibration(reference: (rnaAlone ?? reference).map(\.rna.score), alpha: alpha, requireFlaggable: requireFlaggable)
        let combined = reference.filter { $0.protein != nil }.map(\.combined)
        withProtein = try? AnomalyCalibration(reference: combined, alpha: alpha)
    }

    /// What a cell is scored and calibrated on.
    public enum Basis: String, Sendable {
        case rna = "RNA"
        case rnaAndProtein = "RNA + protein"
    }

    public struct Calibrated: Sendable {
        public var score: Double
        public var z: Double
        public var pValue: Double
        public var basis: Basis
    }

    public func calibrate(_ s: AnomalyScorer.CellScore) -> Calibrated {
        if s.protein != nil, let withProtein {
            let score = s.combined
            return Calibrated(score: score, z: withProtein.z(score), pValue: withProtein.pValue(score), basis: .rnaAndProtein)
        }
        let score = s.rna.score
        return Calibrated(score: score, z: rna.z(score), pValue: rna.pValue(score), basis: .rna)
    }

    /// The reference scores each basis is compared with.
    public var referenceCount: (rna: Int, withProtein: Int) { (rna.reference.count, withProtein?.reference.count ?? 0) }
}
