import ArgumentParser
import CellWeaveCore
import CellWeaveIO

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert any supported input to .h5ad (gene symbols as var names, ids in var gene_ids).")

    @OptionGroup var stage: StageArguments

    @Option(help: "Dataset compression: none or gzip.")
    var compression: CompressionChoice = .none

    func run() throws {
        let adata = try stage.load()
        try Log.timed("writing \(stage.output)") {
            try H5adWriter.write(adata, to: stage.output, compression: compression == .gzip ? .gzip(level: 4) : .none)
        }
        Log.info("\(stage.output): \(adata.nObs) cells x \(adata.nVars) features, \(adata.x.storedCount) stored values")
    }
}

enum CompressionChoice: String, ExpressibleByArgument, CaseIterable {
    case none, gzip
}
