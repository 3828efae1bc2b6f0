/// One modality of a multi-modal data set: its own cells x features AnnData, holding only the cells
/// that were measured in it, and where each of those cells sits among all the cells.
public struct Modality: Sendable {
    /// The name in the file (`mod/<name>` in h5mu; muon's names when CellWeave chooses).
    public var name: String
    public var kind: ModalityKind
    /// Rows are the modality's cells, in `cells` order.
    public var data: AnnData
    /// Row i of `data` is cell `cells[i]` of the whole (the root obs); ascending.
    public var cells: [Int]

    public init(name: String, kind: ModalityKind, data: AnnData, cells: [Int]) {
        precondition(data.nObs == cells.count, "a modality of \(data.nObs) cells placed at \(cells.count)")
        self.name = name
        self.kind = kind
        self.data = data
        self.cells = cells
    }

    /// Per cell of the whole: its row in `data`, or nil where the cell lacks the modality.
    public func rows(amongCells total: Int) -> [Int?] {
        var out = [Int?](repeating: nil, count: total)
        for (i, c) in cells.enumerated() { out[c] = i }
        return out
    }

    /// Per cell of the whole, whether it has the modality.
    public func presence(amongCells total: Int) -> [Bool] {
        var out = [Bool](repeating: false, count: total)
        for c in cells { out[c] = true }
        return out
    }
}
