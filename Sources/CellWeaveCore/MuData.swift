/// Multi-modal data as MuData (mudata, muon) holds it: the table of every cell (root obs), one
/// AnnData per modality with the cells measured in it, and products that belong to every cell
/// (root obsm, obsp, uns). A cell's presence in a modality is explicit, never read from zeros.
public struct MuData: Sendable {
    public var obs: DataFrame
    public var modalities: [Modality]
    public var obsm: [(name: String, matrix: AnnMatrix)] = []
    public var obsp: [(name: String, matrix: AnnMatrix)] = []
    public var uns: [(name: String, value: UnsValue)] = []
    /// Root elements CellWeave does not interpret, carried through unchanged (paths as in AnnData).
    public var passthrough: [PassthroughElement] = []

    public init(obs: DataFrame, modalities: [Modality]) throws {
        for m in modalities {
            guard m.cells.allSatisfy({ $0 >= 0 && $0 < obs.rowCount }), zip(m.cells, m.cells.dropFirst()).allSatisfy(<) else {
                throw MatrixError.malformed("modality \(m.name): its cells must be distinct, ascending positions among the \(obs.rowCount) cells")
            }
        }
        guard Set(modalities.map(\.name)).count == modalities.count else {
            throw MatrixError.malformed("two modalities share a name (\(modalities.map(\.name).joined(separator: ", ")))")
        }
        self.obs = obs
        self.modalities = modalities
    }

    /// One modality holding every cell: what a single-modality file is.
    public init(_ adata: AnnData, name: String = ModalityKind.rna.muonName, kind: ModalityKind = .rna) throws {
        var data = adata
        let root = adata.obs
        data.obs = DataFrame(index: adata.obs.index, indexName: adata.obs.indexName)
        (data.obsm, data.obsp, data.uns) = ([], [], [])
        data.passthrough = adata.passthrough.filter { !Self.belongsToRoot($0.destinationPath) }
        try self.init(obs: root, modalities: [Modality(name: name, kind: kind, data: data, cells: Array(0..<adata.nObs))])
        (obsm, obsp, uns) = (adata.obsm, adata.obsp, adata.uns)
        passthrough = adata.passthrough.filter { Self.belongsToRoot($0.destinationPath) }
    }

    public var nObs: Int { obs.rowCount }

    /// The first modality of the kind.
    public func modality(_ kind: ModalityKind) -> Modality? { modalities.first { $0.kind == kind } }

    public func modalityIndex(_ kind: ModalityKind) -> Int? { modalities.firstIndex { $0.kind == kind } }

    /// Elements of an AnnData that describe cells (the whole's) rather than one modality's features.
    static func belongsToRoot(_ path: String) -> Bool {
        path == "uns" || path == "obsp" || path.hasPrefix("obsm/") || path.hasPrefix("obsp/")
    }

    /// The given cells (positions in the whole, in order) in every part; each modality keeps those
    /// of its cells that remain.
    public func selecting(cells selected: [Int]) throws -> MuData {
        var position = [Int?](repeating: nil, count: nObs)
        for (i, c) in selected.enumerated() { position[c] = i }
        let modalities = try self.modalities.map { m -> Modality in
            let kept = m.cells.indices.filter { position[m.cells[$0]] != nil }
                .sorted { position[m.cells[$0]]! < position[m.cells[$1]]! }
            return Modality(name: m.name, kind: m.kind, data: try m.data.selecting(cells: kept), cells: kept.map { position[m.cells[$0]]! })
        }
        var out = try MuData(obs: obs.selectingRows(selected), modalities: modalities)
        out.obsm = try obsm.map { ($0.name, try $0.matrix.selecting(rows: selected, cols: Array(0..<$0.matrix.cols))) }
        out.uns = uns
        out.passthrough = passthrough.filter { $0.destinationPath == "uns" }
        return out
    }
}
