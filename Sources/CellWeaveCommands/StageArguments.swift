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
    @OptionGroup var compression: CompressionOption
    @OptionGroup var link: LinkOption

    /// `needsCounts` as `LoadedInput.read`.
    func load(needsCounts: Bool = true) throws -> LoadedInput {
        try Log.timed("reading \(input)") { try LoadedInput.read(input, options: inputOptions, needsCounts: needsCounts) }
    }

    /// Writes what the stage made of the input's `adata`, the other modalities along (`LoadedInput.write`).
    func write(_ adata: AnnData, into whole: MuData?, keptCells: [Int]? = nil) throws {
        try Log.timed("writing \(output)") {
            try LoadedInput(adata: adata, whole: whole).write(to: output, keptCells: keptCells, compression: compression.hdf5,
                                                             linkUnchanged: link.linkUnchanged)
        }
    }
}
