import ArgumentParser
import CellWeaveCore
import CellWeaveIO

/// What every file-to-file stage takes: an input, an output written atomically, and how to open
/// the input.
struct StageArguments: ParsableArguments {
    @Argument(help: "Counts: an .h5ad or .h5mu, or a 10x directory, 10x .h5 or .mtx(.gz).")
    var input: String

    @Option(name: .shortAndLong, help: "The file to write (atomically): .h5ad, or .h5mu for every modality.")
    var output: String

    @OptionGroup var inputOptions: InputOptions

    /// The matrix a stage works on (the RNA modality of multi-modal input, with the whole's obs and
    /// obsm) and, when the input has more modalities or is an h5mu, the whole they belong to.
    struct Input {
        var adata: AnnData
        let whole: MuData?
    }

    func load() throws -> Input {
        try Log.timed("reading \(input)") {
            guard let options = inputOptions.modalityOptions else {
                return Input(adata: try CountMatrixLoader.load(input, options: inputOptions.loaderOptions), whole: nil)
            }
            let whole = try CountMatrixLoader.loadMuData(input, options: inputOptions.loaderOptions, modalities: options)
            guard try whole.modalities.count > 1 || CountMatrixLoader.detect(input) == .h5mu else {
                return Input(adata: try whole.primaryView(), whole: nil)
            }
            do {
                return Input(adata: try whole.primaryView(), whole: whole)
            } catch let e as MuData.PrimaryViewError {
                throw InputError(.unsupported, file: input, .hdf5Path("/mod"), e.description)
            }
        }
    }

    /// Writes what the stage made of `adata`; with modalities around it, they go along (the cells
    /// the stage kept, `keptCells` among the input's, in each of them), as .h5mu or as an h5ad with
    /// protein in obsm, as the output's name says.
    func write(_ adata: AnnData, into whole: MuData?, keptCells: [Int]? = nil, compression: HDF5Compression = .none) throws {
        try Log.timed("writing \(output)") {
            guard var whole else {
                if MuDataFileWriter.isH5mu(output) {
                    try H5muWriter.write(try MuData(adata), to: output, compression: compression)
                } else {
                    try H5adWriter.write(adata, to: output, compression: compression)
                }
                return
            }
            try whole.update(fromPrimaryView: adata, keptCells: keptCells)
            try MuDataFileWriter.write(whole, to: output, compression: compression)
        }
    }
}
