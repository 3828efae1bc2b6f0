import Foundation

/// Per-cell annotations a user brings (cell types from a reference, donor, condition): a
/// tab-separated (or, for .csv, comma-separated) text file with a header line, the barcode first,
/// then one column per annotation. Values are kept as text and become categorical obs columns.
public struct CellAnnotationTable: Sendable {
    public let columns: [String]
    /// Barcode -> one value per column.
    public let rows: [String: [String]]

    public static func read(_ path: String) throws -> CellAnnotationTable {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(.notFound, file: path, "cannot read the annotation table")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw InputError(.value, file: path, "not UTF-8 text") }
        let separator: Character = path.hasSuffix(".csv") ? "," : "\t"
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard let header = lines.first else { throw InputError(.header, file: path, .line(1), "empty file: expected a header line") }
        let names = header.split(separator: separator, omittingEmptySubsequences: false).map(String.init)
        guard names.count >= 2 else {
            throw InputError(.header, file: path, .line(1), "expected the barcode column and at least one annotation column, "
                             + "separated by \(separator == "\t" ? "tabs" : "commas")")
        }
        var rows: [String: [String]] = [:]
        for (n, line) in lines.enumerated().dropFirst() {
            let fields = line.split(separator: separator, omittingEmptySubsequences: false).map(String.init)
            guard fields.count == names.count else {
                throw InputError(.value, file: path, .line(n + 1), "\(fields.count) fields; the header has \(names.count)")
            }
            guard rows.updateValue(Array(fields.dropFirst()), forKey: fields[0]) == nil else {
                throw InputError(.value, file: path, .line(n + 1), "barcode '\(fields[0])' appears more than once")
            }
        }
        return CellAnnotationTable(columns: Array(names.dropFirst()), rows: rows)
    }
}
