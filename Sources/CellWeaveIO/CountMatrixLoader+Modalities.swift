import CellWeaveCore

extension CountMatrixLoader {
    /// Which modalities to keep and which cells lack one, as the user says.
    public struct ModalityOptions: Sendable {
        /// The kinds to keep (nil: every modality the file has).
        public var kinds: [ModalityKind]?
        /// Per kind, an obs boolean column: cells where it is false lack that modality.
        public var masks: [(kind: ModalityKind, column: String)] = []
        /// Masks a model was trained with: applied where the file has the column (a query file
        /// with the training file's column), unless `masks` names the kind.
        public var modelMasks: [(kind: ModalityKind, column: String)] = []
        public init() {}
    }

    /// obsm key and uns key under which scvi-tools keeps protein counts in an h5ad.
    public static let proteinExpressionKey = "protein_expression"
    public static let proteinNamesKey = "protein_names"
    /// uns key where CellWeave records, for the h5ad files it writes, which obs column says that a
    /// cell has a modality (so its own files read back with the same cells missing it).
    public static let modalityMasksKey = "modality_masks"

    /// Any supported input as modalities: an .h5mu as it is; a Cell Ranger matrix with one
    /// modality per feature type; an .h5ad as RNA, plus protein from obsm `protein_expression`
    /// (array or data frame; names from its columns or uns `protein_names`).
    public static func loadMuData(_ path: String, options: Options = Options(), modalities: ModalityOptions = ModalityOptions()) throws -> MuData {
        let kind = try detect(path)
        var mdata: MuData
        switch kind {
        case .h5mu:
            if options.source != .x { throw InputError(.unsupported, file: path, "--layer and --raw apply to h5ad input only; this is an h5mu") }
            mdata = try H5muReader.read(path: path)
        case .tenXDirectory:
            mdata = try TenXDirectoryReader.read(directory: path, progress: options.progress).muData(makeVarNamesUnique: options.makeVarNamesUnique, file: path)
        case .tenXH5:
            mdata = try TenXH5Reader.read(path: path).muData(makeVarNamesUnique: options.makeVarNamesUnique, file: path)
        case .h5ad, .matrixMarket:
            let adata = try load(path, options: options)
            mdata = try MuData(adata)
            if kind == .h5ad { try takeProteinExpression(&mdata, file: path) }
        }
        var masks = modalities.masks
        if kind == .h5ad { masks += try recordedMasks(path).filter { r in !masks.contains { $0.kind == r.kind } } }
        masks += modalities.modelMasks.filter { m in !masks.contains { $0.kind == m.kind } && maskColumn(mdata, m.column, in: kind) != nil }
        for (modality, column) in masks { try applyMask(&mdata, kind: modality, column: column, file: path, in: kind) }
        func hasCounts(_ m: Modality) -> Bool { m.data.nVars > 0 && (!m.data.hasX || m.data.x.storedValues.contains { $0 != 0 }) }
        guard mdata.nObs > 0, mdata.modalities.contains(where: hasCounts) else {
            throw InputError(.empty, file: path, "the count matrix is empty (\(mdata.nObs) cells, no non-zero value)")
        }
        // After the masks: counts only in cells that lack the modality are none.
        for m in mdata.modalities where !m.cells.isEmpty && !hasCounts(m) {
            throw InputError(.empty, file: path, .hdf5Path(countsPath(of: m, in: kind) ?? m.name),
                             "the \(m.name) modality has no counts at all (\(m.cells.count) cells x \(m.data.nVars) features, no non-zero value)")
        }
        if let kinds = modalities.kinds {
            for k in kinds where mdata.modality(k) == nil {
                throw InputError(.missingObject, file: path, "no \(k.rawValue) modality (modalities: \(mdata.modalities.map(\.name).joined(separator: ", ")))")
            }
            mdata.modalities.removeAll { !kinds.contains($0.kind) }
        }
        return mdata
    }

    /// Moves obsm `protein_expression` of an h5ad into a protein modality holding every cell.
    static func takeProteinExpression(_ mdata: inout MuData, file path: String) throws {
        let key = proteinExpressionKey
        var values: DenseMatrix
        var names: [String]?
        if let i = mdata.obsm.firstIndex(where: { $0.name == key }) {
            values = mdata.obsm[i].matrix.toCSR().toDense()
            mdata.obsm.remove(at: i)
        } else if let i = mdata.passthrough.firstIndex(where: { $0.destinationPath == "obsm/" + key }) {
            let f = try HDF5File.open(path)
            let frame = try H5adReader.readDataFrame(try f.group("obsm"), key)
            // anndata requires a data frame in obsm to be indexed by the obs names: rows in
            // another order would give cells each other's protein.
            if frame.index.count == mdata.nObs, let row = frame.index.indices.first(where: { frame.index[$0] != mdata.obs.index[$0] }) {
                throw InputError(.mismatch, file: path, .hdf5Path("/obsm/\(key)/\(frame.indexName)"),
                                 "row \(row) is '\(frame.index[row])' where obs has cell '\(mdata.obs.index[row])': the protein data frame's index must be the obs names")
            }
            var columns: [[Double]] = []
            for (name, column) in frame.columns {
                guard case let .numeric(v) = column else {
                    throw InputError(.value, file: path, .hdf5Path("/obsm/\(key)/\(name)"), "protein counts must be numeric, found \(column.kindName)")
                }
                columns.append(v.doubles)
            }
            names = frame.columnNames
            values = DenseMatrix(rows: mdata.nObs, cols: columns.count)
            for (j, column) in columns.enumerated() { for c in 0..<mdata.nObs { values.values[c * columns.count + j] = Float(column[c]) } }
            mdata.passthrough.remove(at: i)
        } else {
            return
        }
        guard values.rows == mdata.nObs else {
            throw InputError(.mismatch, file: path, .hdf5Path("/obsm/\(key)"), "\(values.rows) rows for \(mdata.nObs) cells")
        }
        if names == nil {
            let f = try HDF5File.open(path)
            if f.contains("uns/\(proteinNamesKey)") { names = try f.dataset("uns/\(proteinNamesKey)").readStrings() }
        }
        let proteinNames = names ?? (0..<values.cols).map { "protein\($0)" }
        guard proteinNames.count == values.cols else {
            throw InputError(.mismatch, file: path, .hdf5Path("/uns/\(proteinNamesKey)"), "\(proteinNames.count) names for \(values.cols) proteins")
        }
        var varTable = DataFrame(index: proteinNames)
        try varTable.setColumn("feature_types", .strings(Array(repeating: "Antibody Capture", count: values.cols)))
        let data = try AnnData(x: .csr(values.toCSR()), obs: DataFrame(index: mdata.obs.index), varTable: varTable)
        mdata.modalities.append(Modality(name: ModalityKind.protein.muonName, kind: .protein, data: data, cells: Array(0..<mdata.nObs)))
    }

    /// The masks CellWeave recorded in an h5ad it wrote (uns modality_masks: kind -> obs column).
    static func recordedMasks(_ path: String) throws -> [(kind: ModalityKind, column: String)] {
        let file = try HDF5File.open(path), key = "uns/" + modalityMasksKey
        guard file.isGroup(key) else { return [] }
        let g = try file.group(key)
        return try g.childNames().compactMap { name in
            guard let kind = ModalityKind(rawValue: name), g.isDataset(name), let column = try g.dataset(name).readStrings().first else { return nil }
            return (kind, column)
        }
    }

    /// The HDF5 path of a modality's counts in a file of `kind` (nil for the 10x formats, whose
    /// feature types share one matrix).
    public static func countsPath(of m: Modality, in kind: InputKind) -> String? {
        switch kind {
        case .h5mu: "/mod/\(m.name)/X"
        case .h5ad: m.kind == .protein ? "/obsm/\(proteinExpressionKey)" : "/X"
        default: nil
        }
    }

    /// A mask's obs column and its HDF5 path: the whole's obs first, then the RNA modality's.
    static func maskColumn(_ mdata: MuData, _ column: String, in kind: InputKind) -> (values: ColumnValues, path: String)? {
        if let v = mdata.obs[column] { return (v, "/obs/\(column)") }
        if let rna = mdata.modality(.rna), rna.cells.count == mdata.nObs, let v = rna.data.obs[column] {
            return (v, kind == .h5mu ? "/mod/\(rna.name)/obs/\(column)" : "/obs/\(column)")
        }
        return nil
    }

    /// Removes from a modality the cells whose obs column (the whole's obs first, then the RNA
    /// modality's) is false.
    static func applyMask(_ mdata: inout MuData, kind: ModalityKind, column: String, file: String, in fileKind: InputKind) throws {
        guard let m = mdata.modalityIndex(kind) else { return }
        guard let (values, columnPath) = maskColumn(mdata, column, in: fileKind) else {
            throw InputError(.missingObject, file: file, .hdf5Path("/obs/\(column)"), "no obs column '\(column)' for the \(kind.rawValue) mask (looked in /obs, then in the RNA modality's obs)")
        }
        guard case let .booleans(has) = values else {
            throw InputError(.value, file: file, .hdf5Path(columnPath),
                             "the \(kind.rawValue) mask column must be boolean (True: the cell has \(kind.rawValue)), found \(values.kindName)")
        }
        let modality = mdata.modalities[m]
        let kept = modality.cells.indices.filter { has[modality.cells[$0]] }
        guard kept.count != modality.cells.count else { return }
        mdata.modalities[m] = Modality(name: modality.name, kind: kind, data: try modality.data.selecting(cells: kept),
                                       cells: kept.map { modality.cells[$0] })
    }
}
