import CellWeaveCore
import Foundation

/// Tab-separated tables for R and spreadsheet users: a per-cell table (obs) or an embedding
/// with one row per cell.
public enum TSVWriter {
    public static func encode(_ frame: DataFrame) -> String {
        var lines = [([frame.indexName == "_index" ? "" : frame.indexName] + frame.columnNames).joined(separator: "\t")]
        lines.reserveCapacity(frame.rowCount + 1)
        for row in 0..<frame.rowCount {
            lines.append(([frame.index[row]] + frame.columns.map { cell($0.values, row) }).joined(separator: "\t"))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func encode(_ m: DenseMatrix, rowNames: [String], columnPrefix: String) -> String {
        header(columns: m.cols, prefix: columnPrefix) + rows(m, names: rowNames[...])
    }

    /// The header line of an embedding table of `columns` dimensions.
    public static func header(columns: Int, prefix: String) -> String {
        ([""] + (0..<columns).map { "\(prefix)\($0 + 1)" }).joined(separator: "\t") + "\n"
    }

    /// The lines of an embedding's rows, one per name, so that a table can be written block by block.
    public static func rows(_ m: DenseMatrix, names: ArraySlice<String>) -> String {
        zip(0..<m.rows, names).map { r, name in ([name] + (0..<m.cols).map { "\(m[r, $0])" }).joined(separator: "\t") + "\n" }.joined()
    }

    public static func write(_ text: String, to path: String) throws {
        try AtomicFile.write(Data(text.utf8), to: path)
    }

    /// One cell of a column as text; missing values are empty, as R's read.delim expects NA.
    static func cell(_ values: ColumnValues, _ row: Int) -> String {
        switch values {
        case let .strings(v): return v[row]
        case let .numeric(v):
            switch v.storage {
            case let .integers(x): return String(x[row])
            case let .floats(x): return String(x[row])
            }
        case let .booleans(v): return v[row] ? "True" : "False"
        case let .categorical(codes, categories, _):
            return codes[row] < 0 ? "" : cell(categories, Int(codes[row]))
        case let .nullableIntegers(v, mask): return mask[row] ? "" : cell(.numeric(v), row)
        case let .nullableBooleans(v, mask): return mask[row] ? "" : (v[row] ? "True" : "False")
        case let .nullableStrings(v, mask): return mask[row] ? "" : v[row]
        }
    }
}
