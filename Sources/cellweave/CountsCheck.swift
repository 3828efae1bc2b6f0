import ArgumentParser
import CellWeaveCore

/// What to do when a stage that models counts finds non-integer values (scanpy's check_values).
struct CountsCheck: ParsableArguments {
    @Option(help: "Non-integer or negative counts: warn or refuse.")
    var nonInteger: NonIntegerPolicy = .warn

    /// Warns or throws if `counts` are not raw counts.
    /// `location`: the HDF5 path of a matrix other than X (a modality's), named in the message.
    func check(_ counts: CSRMatrix, input: String, location: String? = nil, matrix: String = "X") throws {
        guard let bad = counts.values.first(where: { $0.rounded() != $0 || $0 < 0 }) else { return }
        let message = "\(input)\(location.map { " [\($0)]" } ?? ""): \(matrix) holds non-integer or negative values (e.g. \(bad)); this stage models raw counts"
        if nonInteger == .refuse { throw ValidationError(message + " (use --layer counts or --raw)") }
        Log.info("warning: " + message)
    }
}

enum NonIntegerPolicy: String, ExpressibleByArgument, CaseIterable {
    case warn, refuse
}
