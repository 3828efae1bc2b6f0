import ArgumentParser
import CellWeaveCore
import CellWeaveIO
import Foundation

/// How to open an input: which matrix holds the counts, which features to keep.
struct InputOptions: ParsableArguments {
    @Option(help: "Use this h5ad layer as the counts (e.g. counts).")
    var layer: String?

    @Flag(help: "Use the h5ad's raw/X (and raw/var) as the counts.")
    var raw = false

    @Flag(help: "Keep every feature type of a 10x input, not only Gene Expression.")
    var allFeatures = false

    @Option(help: "Keep only this 10x feature type (e.g. 'Antibody Capture').")
    var modality: String?

    @Option(help: "Modalities to keep, comma-separated (rna, protein, atac; default: every one the input has).")
    var modalities: String?

    @OptionGroup var mask: ModalityMaskOption

    @Flag(help: "Make var names unique as anndata's var_names_make_unique does (A, A-1, A-2).")
    var varNamesMakeUnique = false

    func validate() throws {
        if layer != nil && raw { throw ValidationError("--layer and --raw exclude each other.") }
        if allFeatures && modality != nil { throw ValidationError("--all-features and --modality exclude each other.") }
        if (allFeatures || modality != nil) && (modalities != nil || !mask.modalityMask.isEmpty) {
            throw ValidationError("--modalities and --modality-mask choose among modalities; --all-features and --modality put one feature set in X.")
        }
        _ = try parsedModalities()
    }

    /// How to take the input's modalities; nil when --all-features or --modality ask for one matrix.
    var modalityOptions: CountMatrixLoader.ModalityOptions? {
        guard !allFeatures, modality == nil else { return nil }
        return try? parsedModalities()
    }

    private func parsedModalities() throws -> CountMatrixLoader.ModalityOptions {
        var o = CountMatrixLoader.ModalityOptions()
        o.kinds = try modalities.map { try $0.split(separator: ",").map { try ModalityMaskOption.kind($0.trimmingCharacters(in: .whitespaces)[...], "--modalities") } }
        o.masks = try mask.masks()
        return o
    }

    var loaderOptions: CountMatrixLoader.Options {
        var o = CountMatrixLoader.Options()
        o.source = raw ? .raw : layer.map { .layer($0) } ?? .x
        o.features = allFeatures ? .all : modality.map { .modality($0) } ?? .geneExpression
        o.makeVarNamesUnique = varNamesMakeUnique
        let line = ProgressLine()
        o.progress = { line.update($0, $1) }
        return o
    }
}
