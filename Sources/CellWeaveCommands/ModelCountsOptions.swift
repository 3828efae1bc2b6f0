import ArgumentParser
import CellWeaveCore
import CellWeaveIO
import CellWeaveModel

/// Where `embed` and `score` take the counts from (by default where the model's training counts
/// were) and which cells lack a modality (by default as in training, where the file has the column).
struct ModelCountsOptions: ParsableArguments {
    @Option(help: "Counts from this layer (default: where the model's training counts were).") var layer: String?
    @Flag(help: "Counts from raw/X.") var raw = false
    @OptionGroup var mask: ModalityMaskOption
    @OptionGroup var countsCheck: CountsCheck

    func validate() throws {
        if layer != nil && raw { throw ValidationError("--layer and --raw exclude each other.") }
    }

    /// The counts' place in the file, named as the model manifest records it.
    func source(default manifestSource: String) -> String { ModelInputs.sourceName(layer: layer, raw: raw) ?? manifestSource }

    /// The masks asked for, and the model's for the kinds not asked for (applied where the file has their column).
    func modalities(_ manifest: ModelManifest) throws -> CountMatrixLoader.ModalityOptions {
        var o = CountMatrixLoader.ModalityOptions()
        o.masks = try mask.masks()
        o.modelMasks = (manifest.modalityMasks ?? [:]).sorted { $0.key < $1.key }.compactMap { kind, column in
            ModalityKind(rawValue: kind).map { ($0, column) }
        }
        return o
    }

    /// Reads a file the model is applied to and checks its counts (RNA's and every further modality's).
    /// `knownCategories` as `ModelInputs` takes them.
    func read(_ path: String, manifest: ModelManifest, knownCategories: [[String]]? = nil) throws -> (LoadedInput, ModelInputs) {
        let loaded = try Log.timed("reading \(path)") { try LoadedInput.read(path, modalities: try modalities(manifest)) }
        let inputs = try ModelInputs(loaded.adata, whole: loaded.whole, file: path, manifest: manifest, source: source(default: manifest.countsSource),
                                    knownCategories: knownCategories)
        try countsCheck.check(inputs.counts, input: path)
        let present = zip(manifest.modalities ?? [], inputs.modalities).compactMap { m, counts in loaded.whole?.modality(m.kind).map { ($0, counts.counts) } }
        try countsCheck.check(modalities: present, input: path)
        return (loaded, inputs)
    }
}
