import Foundation

/// Per-cell annotations a user brings (cell types from a reference, donor, condition): a
/// tab-separated (or, for .csv, comma-separated) text file with a header line, the barcode first,
/// then one column per annotation, quoted as pandas and R write them. Values are kept as text and
/// become categorical obs columns.
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
        let records = try Self.records(text, separator: separator, file: path)
        guard let header = records.first else { throw InputError(.header, file: path, .line(1), "empty file: expected a header line") }
        let names = header.fields
        guard names.count >= 2 else {
            throw InputError(.header, file: path, .line(1), "expected the barcode column and at least one annotation column, "
                             + "separated by \(separator == "\t" ? "tabs" : "commas")")
        }
        var rows: [String: [String]] = [:]
        for record in records.dropFirst() {
            let fields = record.fields
            guard fields.count == names.count else {
                throw InputError(.value, file: path, .line(record.line), "\(fields.count) fields; the header has \(names.count)")
            }
            guard rows.updateValue(Array(fields.dropFirst()), forKey: fields[0]) == nil else {
                throw InputError(.value, file: path, .line(record.line), "barcode '\(fields[0])' appears more than once")
            }
        }
        return CellAnnotationTable(columns: Array(names.dropFirst()), rows: rows)
    }

    /// The records of a delimited text, each with the line it starts on, quoted as pandas' to_csv
    /// and R's write.csv write (RFC 4180): a field in double quotes may hold the separator, line
    /// breaks and "" for a quote. A missing value is an empty field or R's unquoted NA, and is
    /// given as "". Blank lines at the end are ignored.
    static func records(_ text: String, separator: Character, file: String) throws -> [(line: Int, fields: [String])] {
        var records: [(line: Int, fields: [String])] = []
        var fields: [String] = [], field = "", quoted = false, inQuotes = false, afterQuote = false
        var line = 1, recordLine = 1
        func endField() {
            fields.append(!quoted && field == "NA" ? "" : field)
            (field, quoted, afterQuote) = ("", false, false)
        }
        var characters = text.makeIterator()
        while let c = characters.next() {
            if inQuotes {
                if c == "\"" { inQuotes = false; afterQuote = true } else { field.append(c) }
                if c == "\n" || c == "\r\n" { line += 1 }
                continue
            }
            switch c {
            case "\"" where afterQuote:
                field.append("\"")  // "" inside quotes
                inQuotes = true
                afterQuote = false
            case "\"" where field.isEmpty && !quoted:
                (quoted, inQuotes) = (true, true)
            case separator:
                endField()
            case "\n", "\r\n", "\r":
                endField()
                records.append((recordLine, fields))
                fields = []
                line += 1
                recordLine = line
            default:
                guard !afterQuote else {
                    throw InputError(.value, file: file, .line(line), "text after a closing quote; a quote inside a quoted field is written \"\"")
                }
                field.append(c)
            }
        }
        if inQuotes { throw InputError(.value, file: file, .line(recordLine), "a quoted field is not closed") }
        if !field.isEmpty || quoted || !fields.isEmpty {
            endField()
            records.append((recordLine, fields))
        }
        while records.last?.fields == [""] { records.removeLast() }
        return records
    }
}
