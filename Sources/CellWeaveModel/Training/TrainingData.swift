import CellWeaveCore

/// Counts (cells x genes, CSR) and the covariate codes offset into one concatenated category
/// list (key 0's categories first), and the counts of any further modality. Nothing per non-zero
/// beyond the CSR itself is kept.
public struct TrainingData: Sendable {
    public let counts: CSRMatrix
    public let categoryCodes: [[Int32]]
    /// Categories per covariate key, in key order.
    public let categoryCounts: [Int]
    /// Modalities beyond RNA (surface protein), over the cells measured in each.
    public var modalities: [ModalityCounts] = []

    /// `codes[k][c]` is cell c's category index within key k (0..<categoryCounts[k]).
    public init(counts: CSRMatrix, codes: [[Int32]], categoryCounts: [Int]) {
        precondition(codes.count == categoryCounts.count && codes.allSatisfy { $0.count == counts.rows })
        self.counts = counts
        var offset: Int32 = 0
        var shifted: [[Int32]] = []
        for (k, keyCodes) in codes.enumerated() {
            shifted.append(keyCodes.map { $0 + offset })
            offset += Int32(categoryCounts[k])
        }
        categoryCodes = shifted
        self.categoryCounts = categoryCounts
    }

    public var cells: Int { counts.rows }
    public var genes: Int { counts.cols }
}
