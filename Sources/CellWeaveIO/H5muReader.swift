import CellWeaveCore

/// Reads MuData's .h5mu (mudata, muon): each `mod/<name>` group as an AnnData, the root obs, and
/// where each modality's cells sit among them from `obsmap/<name>` (1-based rows, 0 where the cell
/// is absent) or, without it, by cell names. Modalities are recognised by muon's names (`rna`,
/// `prot`, ...) or their var `feature_types`. Root obsm arrays are read; other root elements
/// (uns, obsp, obsm data frames) are carried through unchanged.
public enum H5muReader {
    public static func isH5mu(_ file: HDF5File) -> Bool { file.encodingType == "MuData" || file.isGroup("mod") }

    public static func read(path: String) throws -> MuData {
        let file = try HDF5File.open(path)
        guard file.isGroup("mod") else {
            throw InputError(.notH5ad, file: path, .hdf5Path("/mod"), "not an h5mu file: no mod group of modalities")
        }
        let mods = try file.group("mod")
        var names = try mods.childNames()
        if mods.hasAttribute("mod-order") {
            let order = try mods.stringArrayAttribute("mod-order")
            if Set(order) == Set(names) { names = order }
        }
        guard !names.isEmpty else { throw InputError(.empty, file: path, .hdf5Path("/mod"), "the file holds no modality") }
        let obs = try H5adReader.readDataFrame(file, "obs")
        var position: [String: Int] = [:]
        for (c, name) in obs.index.enumerated() where position[name] == nil { position[name] = c }

        var modalities: [Modality] = []
        for name in names {
            let group = try mods.group(name)
            let data = try H5adReader.read(group: group)
            let cells = try placement(of: data, named: name, among: obs, position: position, in: file)
            // Rows in the order of the whole's cells.
            let order = cells.indices.sorted { cells[$0] < cells[$1] }
            let sorted = order == Array(cells.indices) ? data : try data.selecting(cells: order)
            modalities.append(Modality(name: name, kind: kind(of: name, data), data: sorted, cells: order.map { cells[$0] }))
        }
        var mdata: MuData
        do {
            mdata = try MuData(obs: obs, modalities: modalities)
        } catch let e as MatrixError {
            throw InputError(.mismatch, file: path, .hdf5Path("/mod"), e.description)
        }
        if file.isGroup("obsm") {
            let g = try file.group("obsm")
            for name in try g.childNames() where !names.contains(name) {
                if g.isDataset(name) {
                    let m = try H5adReader.readMatrix(g, name)
                    guard m.rows == obs.rowCount else {
                        throw InputError(.mismatch, file: path, .hdf5Path(g.childPath(name)), "\(m.rows) rows for \(obs.rowCount) cells")
                    }
                    mdata.obsm.append((name, m))
                } else {
                    mdata.passthrough.append(PassthroughElement(sourceFile: path, sourcePath: "obsm/" + name, destinationPath: "obsm/" + name))
                }
            }
        }
        for p in ["uns", "obsp"] where file.contains(p) {
            mdata.passthrough.append(PassthroughElement(sourceFile: path, sourcePath: p, destinationPath: p))
        }
        return mdata
    }

    /// The position among the whole's cells of each row of a modality.
    private static func placement(of data: AnnData, named name: String, among obs: DataFrame, position: [String: Int],
                                  in file: HDF5File) throws -> [Int] {
        let mapPath = "obsmap/" + name
        guard file.contains(mapPath) else {
            return try data.obs.index.enumerated().map { i, cell in
                guard let c = position[cell] else {
                    throw InputError(.mismatch, file: file.file, .hdf5Path("/mod/\(name)/obs"),
                                     "cell '\(cell)' (row \(i)) is not among the file's cells (/obs) and there is no /\(mapPath)")
                }
                return c
            }
        }
        let ds = try file.dataset(mapPath)
        // Read as integers, floats would be truncated (0.5 taken as absent).
        guard ds.elementClass == .integer else {
            throw InputError(.value, file: file.file, .hdf5Path("/" + mapPath), "the obsmap must hold integers (0 absent, else a 1-based row of mod/\(name)), found \(ds.elementClass)")
        }
        let map = try ds.readInt64s()
        guard map.count == obs.rowCount else {
            throw InputError(.mismatch, file: file.file, .hdf5Path("/" + mapPath), "\(map.count) entries for \(obs.rowCount) cells")
        }
        var cells = [Int](repeating: -1, count: data.nObs)
        for (c, v) in map.enumerated() where v != 0 {
            guard v >= 1, v <= Int64(data.nObs) else {
                throw InputError(.value, file: file.file, .hdf5Path("/" + mapPath),
                                 "entry \(c) is \(v); expected 0 (absent) or a row of mod/\(name), 1...\(data.nObs)")
            }
            let row = Int(v) - 1
            guard cells[row] < 0 else {
                throw InputError(.value, file: file.file, .hdf5Path("/" + mapPath), "row \(v) of mod/\(name) is given to two cells (\(cells[row]) and \(c))")
            }
            guard data.obs.index[row] == obs.index[c] else {
                throw InputError(.mismatch, file: file.file, .hdf5Path("/" + mapPath),
                                 "entry \(c) places row \(row) of mod/\(name) ('\(data.obs.index[row])') at cell '\(obs.index[c])'")
            }
            cells[row] = c
        }
        if let row = cells.firstIndex(of: -1) {
            throw InputError(.value, file: file.file, .hdf5Path("/" + mapPath), "row \(row) of mod/\(name) is mapped to no cell")
        }
        return cells
    }

    /// muon's names first, then the features' types.
    static func kind(of name: String, _ data: AnnData) -> ModalityKind {
        if let kind = ModalityKind(modalityName: name) { return kind }
        if let types = data.varTable["feature_types"]?.batchCodes(), let first = types.codes.first {
            return ModalityKind(featureType: types.labels[first])
        }
        return .other
    }
}
