extension MuData {
    /// Why a multi-modal file cannot be seen as one AnnData.
    public struct PrimaryViewError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The modality single-modality stages (HVG, PCA, graphs) work on: RNA, else the only one.
    public var primaryIndex: Int? { modalityIndex(.rna) ?? (modalities.count == 1 ? 0 : nil) }

    /// The AnnData a single-modality stage works on: the primary modality's matrices and var, the
    /// whole's obs (its own columns first, then those of the modality's obs it lacks, as obs
    /// columns are looked up in the MuData's obs first), obsm, obsp and uns. The primary modality
    /// must hold every cell.
    public func primaryView() throws -> AnnData {
        guard let p = primaryIndex else {
            throw PrimaryViewError(description: "no RNA modality among \(modalities.map(\.name).joined(separator: ", "))")
        }
        let m = modalities[p]
        guard m.cells.count == nObs else {
            throw PrimaryViewError(description: "the \(m.name) modality holds \(m.cells.count) of the \(nObs) cells; every cell needs it")
        }
        var view = m.data
        var merged = obs
        for (name, values) in m.data.obs.columns where merged[name] == nil { try merged.setColumn(name, values) }
        view.obs = merged
        (view.obsm, view.obsp, view.uns) = (obsm, obsp, uns)
        view.passthrough = passthrough + m.data.passthrough
        return view
    }

    /// Puts back what a stage made of `primaryView()`: obs, obsm, obsp, uns and root elements to the
    /// whole; X, var, layers, varm and raw to the primary modality. When the stage kept only some
    /// cells (`keptCells`, positions in the whole, in the view's row order), every modality keeps
    /// those of its cells that remain.
    public mutating func update(fromPrimaryView view: AnnData, keptCells: [Int]? = nil) throws {
        if let keptCells { self = try selecting(cells: keptCells) }
        guard let p = primaryIndex, view.nObs == nObs else {
            throw PrimaryViewError(description: "the stage returned \(view.nObs) cells for \(nObs)")
        }
        let modalityColumns = Set(modalities[p].data.obs.columnNames)
        var root = DataFrame(index: view.obs.index, indexName: obs.indexName)
        for (name, values) in view.obs.columns where !modalityColumns.contains(name) || obs[name] != nil {
            try root.setColumn(name, values)
        }
        var data = view
        var own = DataFrame(index: view.obs.index, indexName: modalities[p].data.obs.indexName)
        for (name, values) in view.obs.columns where modalityColumns.contains(name) && obs[name] == nil {
            try own.setColumn(name, values)
        }
        data.obs = own
        (data.obsm, data.obsp, data.uns) = (modalities[p].data.obsm, modalities[p].data.obsp, modalities[p].data.uns)
        data.passthrough = view.passthrough.filter { !Self.belongsToRoot($0.destinationPath) }
        modalities[p].data = data
        obs = root
        (obsm, obsp, uns) = (view.obsm, view.obsp, view.uns)
        passthrough = view.passthrough.filter { Self.belongsToRoot($0.destinationPath) }
    }
}
