import ArgumentParser
import CellWeaveCore
import CellWeaveIO

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert any supported input to .h5ad or .h5mu (gene symbols as var names, ids in var gene_ids).",
        discussion: "Every modality of the input goes along: into an .h5mu as its own modality, into an .h5ad as RNA in X and protein in obsm protein_expression (scvi-tools' layout).")

    @OptionGroup var stage: StageArguments

    func run() throws {
        let input = try stage.load(needsCounts: false)
        let adata = input.adata
        try stage.write(adata, into: input.whole)
        let others = input.whole?.modalities.filter { $0.kind != .rna }.map { "\($0.name): \($0.cells.count) cells x \($0.data.nVars) features" } ?? []
        Log.info("\(stage.output): \(adata.nObs) cells x \(adata.nVars) features, \(adata.x.storedCount) stored values"
                 + (others.isEmpty ? "" : "; " + others.joined(separator: "; ")))
    }
}
