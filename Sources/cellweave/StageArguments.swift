import ArgumentParser
import CellWeaveCore
import CellWeaveIO

/// What every file-to-file stage takes: an input, an output written atomically, and how to open
/// the input.
struct StageArguments: ParsableArguments {
    @Argument(help: "Counts: an .h5ad, or a 10x directory, 10x .h5 or .mtx(.gz).")
    var input: String

    @Option(name: .shortAndLong, help: "The .h5ad to write (atomically).")
    var output: String

    @OptionGroup var inputOptions: InputOptions

    func load() throws -> AnnData {
        try Log.timed("reading \(input)") { try CountMatrixLoader.load(input, options: inputOptions.loaderOptions) }
    }

    func write(_ adata: AnnData) throws {
        try Log.timed("writing \(output)") { try H5adWriter.write(adata, to: output) }
    }
}
