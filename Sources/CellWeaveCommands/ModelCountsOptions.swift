import ArgumentParser
import CellWeaveModel

/// Where `embed` and `score` take the counts from: by default where the model's training counts were.
struct ModelCountsOptions: ParsableArguments {
    @Option(help: "Counts from this layer (default: where the model's training counts were).") var layer: String?
    @Flag(help: "Counts from raw/X.") var raw = false

    func validate() throws {
        if layer != nil && raw { throw ValidationError("--layer and --raw exclude each other.") }
    }

    /// The counts' place in the file, named as the model manifest records it.
    func source(default manifestSource: String) -> String { ModelInputs.sourceName(layer: layer, raw: raw) ?? manifestSource }
}
