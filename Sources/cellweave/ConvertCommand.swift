import ArgumentParser
import CellWeaveCore
import CellWeaveIO

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert any supported input to .h5ad (gene symbols as var names, ids in var gene_ids).")

    @Argument(help: "A 10x matrix directory, 10x .h5, .h5ad or .mtx(.gz).")
    var input: String

    @Option(name: .shortAndLong, help: "The .h5ad file to write (written atomically).")
    var output: String

    @OptionGroup var inputOptions: InputOptions

    @Option(help: "Dataset compression: none or gzip.")
    var compression: CompressionChoice = .none

    func run() throws {
        let adata = try Log.timed("reading \(input)") { try CountMatrixLoader.load(input, options: inputOptions.loaderOptions) }
        try Log.timed("writing \(output)") {
            try H5adWriter.write(adata, to: output, compression: compression == .gzip ? .gzip(level: 4) : .none)
        }
        Log.info("\(output): \(adata.nObs) cells x \(adata.nVars) features, \(adata.x.storedCount) stored values")
    }
}

enum CompressionChoice: String, ExpressibleByArgument, CaseIterable {
    case none, gzip
}
