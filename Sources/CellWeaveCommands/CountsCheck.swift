import ArgumentParser
import CellWeaveCore
import CellWeaveIO

/// What a stage that models counts does with values that are not raw counts: NaN, infinite and
/// negative values are refused (no count model can take them, and training would only diverge);
/// non-integer ones warn or are refused as asked (scanpy's check_values).
struct CountsCheck: ParsableArguments {
    @Option(help: "Non-integer counts: warn or refuse (NaN, infinite and negative values are always refused).")
    var nonInteger: NonIntegerPolicy = .warn

    /// `location`: the HDF5 path of a matrix other than X (a modality's), named in the message.
    /// `firstCell`: the first row's cell, for counts read block by block; `warn: false` keeps a
    /// block from repeating the warning an earlier one gave. Returns whether there are non-integer values.
    @discardableResult
    func check(_ counts: CSRMatrix, input: String, location: String? = nil, matrix: String = "X",
               firstCell: Int = 0, warn: Bool = true) throws -> Bool {
        let file = "\(input)\(location.map { " [\($0)]" } ?? "")"
        if let k = counts.values.firstIndex(where: { !$0.isFinite || $0 < 0 }) {
            let row = counts.indptr.lastIndex { $0 <= k }!
            throw ValidationError("\(file): \(matrix) holds \(counts.values[k]) at cell \(firstCell + row), feature \(counts.indices[k]) (0-based): "
                                  + "counts must be finite and non-negative (use --layer counts or --raw for the raw counts)")
        }
        guard let bad = counts.values.first(where: { $0.rounded() != $0 }) else { return false }
        let message = "\(file): \(matrix) holds non-integer values (e.g. \(bad)); this stage models raw counts"
        if nonInteger == .refuse { throw ValidationError(message + " (use --layer counts or --raw)") }
        if warn { Log.info("warning: " + message) }
        return true
    }
}

extension CountsCheck {
    /// Each further modality's counts, checked as X's are and named by their HDF5 path in `input`.
    func check(modalities: [(modality: Modality, counts: CSRMatrix)], input: String) throws {
        let kind = try CountMatrixLoader.detect(input)
        for (m, counts) in modalities {
            try check(counts, input: input, location: CountMatrixLoader.countsPath(of: m, in: kind), matrix: "the \(m.name) modality")
        }
    }
}

enum NonIntegerPolicy: String, ExpressibleByArgument, CaseIterable {
    case warn, refuse
}
