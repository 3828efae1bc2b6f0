import ArgumentParser
import CellWeaveCore
import CellWeaveIO

/// Which cells lack a modality, by an obs boolean column the user names: missing is said, never
/// guessed from zeros.
struct ModalityMaskOption: ParsableArguments {
    @Option(parsing: .singleValue, help: "KIND=COLUMN: cells whose boolean obs column is false lack that modality (e.g. protein=has_protein).")
    var modalityMask: [String] = []

    func validate() throws { _ = try masks() }

    func masks() throws -> [(kind: ModalityKind, column: String)] {
        try modalityMask.map { entry in
            let parts = entry.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, !parts[1].isEmpty else { throw ValidationError("--modality-mask: expected KIND=COLUMN, found '\(entry)'") }
            return (try Self.kind(parts[0], "--modality-mask"), String(parts[1]))
        }
    }

    /// A modality named on the command line (`option` names the option in the error).
    static func kind(_ text: Substring, _ option: String) throws -> ModalityKind {
        guard let k = ModalityKind(modalityName: String(text)) else {
            throw ValidationError("\(option): unknown modality '\(text)' (rna, protein, atac)")
        }
        return k
    }
}
