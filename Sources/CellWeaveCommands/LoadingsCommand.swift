import ArgumentParser
import CellWeaveIO
import CellWeaveModel

struct LoadingsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadings",
        abstract: "Export the gene loadings of a model trained with --decoder linear: one row per model gene, one column per latent dimension.",
        discussion: "Column X_cellweave_k is dimension k of the embedding; a gene with a large positive loading rises with it. The top genes of each dimension are printed.")

    @Argument(help: "A model directory written by cellweave train --decoder linear.") var model: String
    @Option(name: .shortAndLong, help: "The .tsv to write (atomically).") var output: String
    @Option(help: "Top genes printed per dimension and direction.") var top = 5
    @Flag(inversion: .prefixedNo, help: "Loadings in varimax axes, those of embed's X_cellweave (scvi-tools' get_loadings: no).")
    var varimax = true

    func run() throws {
        let (manifest, tensors) = try ModelDirectory(path: model).load()
        let vae = VariationalAutoencoder<Float>(configuration: manifest.configuration, capacity: 1, seed: 0)
        try vae.load(tensors)
        guard let loadings = try GeneLoadings(vae, geneNames: manifest.geneNames, varimax: varimax) else {
            throw ValidationError("\(model): the model's decoder is \(manifest.configuration.decoderKind.rawValue); loadings exist for models trained with --decoder linear")
        }
        try TSVWriter.write(TSVWriter.encode(loadings.matrix, rowNames: loadings.geneNames, columnPrefix: "X_cellweave_"), to: output)
        for k in 0..<loadings.matrix.cols {
            print("X_cellweave_\(k + 1)  + \(loadings.topGenes(dimension: k, count: top).joined(separator: " "))"
                  + "  - \(loadings.topGenes(dimension: k, count: top, positive: false).joined(separator: " "))")
        }
        Log.info("\(output): \(loadings.matrix.rows) genes x \(loadings.matrix.cols) dimensions")
    }
}
