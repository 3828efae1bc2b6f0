import ArgumentParser
import CellWeaveAnalysis
import CellWeaveCore

struct UMAPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "umap",
        abstract: "A 2-D UMAP layout of the neighbours graph into obsm X_umap (--key-added), for plots (scanpy's plotting reads it).")

    @OptionGroup var stage: StageArguments
    @OptionGroup var embedding: EmbeddingOption
    @OptionGroup var neighbors: NeighborsKeyOption
    @Option(help: "Optimisation epochs (default: 500 up to 10,000 cells, else 200, as umap-learn).") var epochs: Int?
    @Option(help: "Seed of the negative samples.") var seed: UInt64 = 0
    @Option(help: "The obsm entry to write (e.g. X_umap_pca for a layout of the uncorrected graph).") var keyAdded = "X_umap"

    func run() throws {
        let input = try stage.load(needsCounts: false)
        var adata = input.adata
        let x = try embedding.embedding(of: adata, file: stage.input)
        let connectivities = try neighbors.connectivities(stage.input, cells: adata.nObs)
        var umap = UMAPLayout()
        umap.epochs = epochs
        umap.seed = seed
        let y = try Log.timed("UMAP layout of \(adata.nObs) cells") { try umap.layout(connectivities, embedding: x) }
        adata.obsm.removeAll { $0.name == keyAdded }
        adata.obsm.append((keyAdded, .dense(try DenseMatrix(rows: adata.nObs, cols: 2, values: y.map(Float.init)))))
        adata.uns.removeAll { $0.name == "umap" }
        adata.uns.append(("umap", .dict([("params", .dict([("a", .number(UMAPLayout.a)), ("b", .number(UMAPLayout.b))]))])))
        Provenance.record(&adata, parameters: [("seed", .number(Double(seed)))])
        try stage.write(adata, into: input.whole)
    }
}
