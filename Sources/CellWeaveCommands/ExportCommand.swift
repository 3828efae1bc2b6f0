import ArgumentParser
import CellWeaveCore
import CellWeaveIO

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Copy an embedding (obsm) to .npy or .tsv, or a per-cell table (obs) to .tsv.")

    @Argument(help: "An .h5ad file.")
    var input: String

    @Option(help: "The obsm entry to export (e.g. X_pca); without it, the obs table.")
    var obsm: String?

    @Option(name: .shortAndLong, help: "Output file: .npy or .tsv.")
    var output: String

    func validate() throws {
        guard output.hasSuffix(".tsv") || (output.hasSuffix(".npy") && obsm != nil) else {
            throw ValidationError("--output must end in .tsv, or .npy together with --obsm.")
        }
    }

    func run() throws {
        let adata = try CountMatrixLoader.load(input)
        guard let name = obsm else {
            try TSVWriter.write(TSVWriter.encode(adata.obs), to: output)
            return
        }
        guard let m = adata.obsm.first(where: { $0.name == name })?.matrix, case let .dense(embedding) = m.layout else {
            let known = adata.obsm.map(\.name).joined(separator: ", ")
            throw ValidationError("\(input) has no dense obsm '\(name)' (obsm: \(known.isEmpty ? "none" : known))")
        }
        if output.hasSuffix(".npy") {
            try NPYWriter.write(embedding, to: output)
        } else {
            try TSVWriter.write(TSVWriter.encode(embedding, rowNames: adata.obs.index, columnPrefix: name + "_"), to: output)
        }
    }
}
