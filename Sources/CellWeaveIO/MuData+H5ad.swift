import CellWeaveCore

extension MuData {
    /// obs column CellWeave writes into an h5ad when some cells lack protein.
    public static let proteinMeasuredColumn = "protein_measured"

    /// The whole as one h5ad, the way scvi-tools keeps CITE-seq data: the primary (RNA) view, with
    /// protein counts in obsm `protein_expression` (zero rows where a cell has none), their names in
    /// uns `protein_names`, and, when some cells lack protein, obs `protein_measured` named in uns
    /// `modality_masks` so that the file reads back with the same cells missing it. Other
    /// modalities are not carried: an h5ad has no place for them.
    public func h5adView() throws -> AnnData {
        var view = try primaryView()
        guard let protein = modality(.protein) else { return view }
        var values = DenseMatrix(rows: nObs, cols: protein.data.nVars)
        let counts = protein.data.x.toCSR()
        for (i, c) in protein.cells.enumerated() {
            for k in counts.indptr[i]..<counts.indptr[i + 1] { values.values[c * values.cols + Int(counts.indices[k])] = counts.values[k] }
        }
        view.obsm.removeAll { $0.name == CountMatrixLoader.proteinExpressionKey }
        view.obsm.append((CountMatrixLoader.proteinExpressionKey, .dense(values)))
        view.uns.removeAll { $0.name == CountMatrixLoader.proteinNamesKey || $0.name == CountMatrixLoader.modalityMasksKey }
        view.uns.append((CountMatrixLoader.proteinNamesKey, .strings(protein.data.varTable.index)))
        if protein.cells.count < nObs {
            try view.obs.setColumn(Self.proteinMeasuredColumn, .booleans(protein.presence(amongCells: nObs)))
            view.uns.append((CountMatrixLoader.modalityMasksKey, .dict([(ModalityKind.protein.rawValue, .string(Self.proteinMeasuredColumn))])))
        }
        return view
    }
}

/// Writes modalities to the format the output's name asks for: .h5mu as MuData, anything else as
/// an h5ad (`MuData.h5adView`).
public enum MuDataFileWriter {
    public static func write(_ mdata: MuData, to path: String, compression: HDF5Compression = .none) throws {
        if isH5mu(path) {
            try H5muWriter.write(mdata, to: path, compression: compression)
        } else {
            try H5adWriter.write(try mdata.h5adView(), to: path, compression: compression)
        }
    }

    public static func isH5mu(_ path: String) -> Bool { path.lowercased().hasSuffix(".h5mu") }
}
