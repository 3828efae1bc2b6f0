import CellWeaveCore
import CellWeaveIO

/// An input as a stage works on it: the RNA view (the RNA modality with the whole's obs and obsm)
/// and, when the input has further modalities or is an .h5mu, the whole they belong to.
struct LoadedInput {
    var adata: AnnData
    let whole: MuData?

    /// Reads `path`; with --modality or --all-features (one feature set in X) as one matrix.
    /// `modalities`: how to take the modalities, where not from `options` (a model's stages).
    /// `needsCounts`: the stage reads X, so a file without X (anndata's X = None) is refused unless
    /// --layer or --raw names the counts.
    static func read(_ path: String, options: InputOptions? = nil, modalities chosen: CountMatrixLoader.ModalityOptions? = nil,
                     needsCounts: Bool = true) throws -> LoadedInput {
        let loader = options?.loaderOptions ?? CountMatrixLoader.Options()
        let modalities = chosen ?? (options == nil ? CountMatrixLoader.ModalityOptions() : options!.modalityOptions)
        let input: LoadedInput
        if let modalities {
            let whole = try CountMatrixLoader.loadMuData(path, options: loader, modalities: modalities)
            do {
                let view = try whole.primaryView()
                input = try whole.modalities.count > 1 || CountMatrixLoader.detect(path) == .h5mu
                    ? LoadedInput(adata: view, whole: whole) : LoadedInput(adata: view, whole: nil)
            } catch let e as MuData.PrimaryViewError {
                throw InputError(.unsupported, file: path, .hdf5Path("/mod"), e.description)
            }
        } else {
            input = LoadedInput(adata: try CountMatrixLoader.load(path, options: loader), whole: nil)
        }
        guard !needsCounts || input.adata.hasX else {
            let layers = input.adata.layers.map(\.name) + (input.adata.raw == nil ? [] : ["raw (--raw)"])
            let x = input.whole.flatMap { w in w.primaryIndex.map { "/mod/\(w.modalities[$0].name)/X" } } ?? "/X"
            throw InputError(.missingObject, file: path, .hdf5Path(x),
                             "no X (anndata's X = None), and this stage needs counts: name them with --layer NAME or --raw "
                             + "(layers: \(layers.isEmpty ? "none" : layers.joined(separator: ", ")))")
        }
        return input
    }

    /// Writes `adata` (what a stage made of the input's view); with modalities around it, they go
    /// along (the cells the stage kept, `keptCells` among the input's, in each of them), as .h5mu or
    /// as an h5ad with protein in obsm, as the output's name says.
    /// `linkUnchanged`: matrices still as read are written as links to where they are stored.
    func write(to output: String, keptCells: [Int]? = nil, compression: HDF5Compression = .none, linkUnchanged: Bool = false) throws {
        var adata = adata
        if linkUnchanged { adata.linkUnchangedElements() }
        guard var whole else {
            if MuDataFileWriter.isH5mu(output) {
                try H5muWriter.write(try MuData(adata), to: output, compression: compression)
            } else {
                try H5adWriter.write(adata, to: output, compression: compression)
            }
            return
        }
        if linkUnchanged { whole.linkUnchangedElements() }
        try whole.update(fromPrimaryView: adata, keptCells: keptCells)
        try MuDataFileWriter.write(whole, to: output, compression: compression)
    }
}
