import CellWeaveCore

/// The counts of a modality beyond RNA (surface protein): a matrix over the cells measured in it,
/// and where those cells are among the training cells. A cell absent here lacks the modality.
public struct ModalityCounts: Sendable {
    public let kind: ModalityKind
    /// One row per measured cell, in `cells` order.
    public let counts: CSRMatrix
    /// Row i is cell cells[i] of the training data; ascending.
    public let cells: [Int]
    /// Per training cell, its row in `counts`, or -1.
    public let rowOfCell: [Int32]

    public init(kind: ModalityKind, counts: CSRMatrix, cells: [Int], totalCells: Int) {
        precondition(counts.rows == cells.count && cells.allSatisfy { $0 >= 0 && $0 < totalCells })
        self.kind = kind
        self.counts = counts
        self.cells = cells
        var rows = [Int32](repeating: -1, count: totalCells)
        for (i, c) in cells.enumerated() { rows[c] = Int32(i) }
        rowOfCell = rows
    }
}

extension ModalityCounts {
    /// The kinds of modality a model takes beyond RNA.
    public static let modelledKinds: [ModalityKind] = [.protein]

    /// The modalities of `mdata` that a model takes beyond RNA, each over the cells that have it.
    public static func modelled(in mdata: MuData) -> [(modality: Modality, counts: ModalityCounts)] {
        mdata.modalities.filter { modelledKinds.contains($0.kind) }.map { m in
            (m, ModalityCounts(kind: m.kind, counts: m.data.x.toCSR(), cells: m.cells, totalCells: mdata.nObs))
        }
    }
}
