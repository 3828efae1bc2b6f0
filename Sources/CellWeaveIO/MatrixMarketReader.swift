import CellWeaveCore
import Foundation

/// Streaming reader of Matrix Market coordinate files (`general` symmetry; integer, real or
/// pattern fields), gzipped or not. Entries may come in any order; duplicates are summed.
public enum MatrixMarketReader {
    /// Reads the file into CSR. With `transpose`, file rows become columns: Cell Ranger writes
    /// features x barcodes and CellWeave works in cells x features.
    public static func read(path: String, transpose: Bool = false,
                            progress: ProgressHandler? = nil) throws -> (header: MatrixMarketHeader, matrix: CSRMatrix) {
        let reader = try CompressedChunkReader(path: path)
        var parser = MatrixMarketParser(path: path, transpose: transpose, fileBytes: reader.fileSize)
        var splitter = LineSplitter(reader: reader, progress: progress)
        try splitter.forEachLine { line, number in try parser.consume(line, lineNumber: number) }
        return try parser.finish(lastLine: splitter.lineNumber)
    }
}

/// Parser state for `MatrixMarketReader`. While entries arrive sorted by the output row (as Cell
/// Ranger writes them, by barcode) only column indices and values are stored, so the peak
/// memory is the final CSR; out-of-order input falls back to storing row indices too.
struct MatrixMarketParser {
    enum Phase { case banner, size, entries }

    let path: String
    let transpose: Bool
    /// The file's size on disk, to bound what its size line may reserve.
    let fileBytes: Int64?
    var phase = Phase.banner
    var header = MatrixMarketHeader(field: .real, rows: 0, cols: 0, entries: 0)
    var outRows = 0
    var outCols = 0
    var seen = 0
    var minor: [Int32] = []
    var values: [Float] = []
    var rowCounts: [Int] = []
    var lastRow = 0
    var rowIndices: [Int32]? // only once entries arrive out of row order

    init(path: String, transpose: Bool, fileBytes: Int64? = nil) {
        self.path = path
        self.transpose = transpose
        self.fileBytes = fileBytes
    }

    func fail(_ kind: InputError.Kind, _ line: Int, _ message: String) -> InputError {
        InputError(kind, file: path, .line(line), message)
    }

    @inline(__always)
    mutating func consume(_ line: UnsafeBufferPointer<UInt8>, lineNumber: Int) throws {
        if phase == .entries {
            if line.isEmpty || line[0] == UInt8(ascii: "%") { return }
            try entry(line, lineNumber)
            return
        }
        if phase == .banner {
            try banner(line, lineNumber)
            phase = .size
            return
        }
        if line.isEmpty || line[0] == UInt8(ascii: "%") || line.allSatisfy({ $0 == 32 || $0 == 9 }) { return }
        try sizeLine(line, lineNumber)
        phase = .entries
    }

    mutating func banner(_ line: UnsafeBufferPointer<UInt8>, _ number: Int) throws {
        let text = String(decoding: line, as: UTF8.self)
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { $0.lowercased() }
        guard words.first == "%%matrixmarket" else {
            throw fail(.header, number, "expected a '%%MatrixMarket matrix coordinate <field> general' header, found '\(text.prefix(80))'")
        }
        guard words.count == 5, words[1] == "matrix" else {
            throw fail(.header, number, "malformed header '\(text)': expected '%%MatrixMarket matrix coordinate <field> general'")
        }
        guard words[2] == "coordinate" else {
            throw fail(.header, number, "format '\(words[2])' is not supported: only sparse 'coordinate' files are count matrices")
        }
        guard let field = MatrixMarketHeader.Field(rawValue: words[3]) else {
            throw fail(.header, number, "field '\(words[3])' is not supported: expected integer, real or pattern")
        }
        guard words[4] == "general" else {
            throw fail(.header, number, "symmetry '\(words[4])' is not supported: expected 'general'")
        }
        header.field = field
    }

    mutating func sizeLine(_ line: UnsafeBufferPointer<UInt8>, _ number: Int) throws {
        let text = String(decoding: line, as: UTF8.self)
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard parts.count == 3, let r = Int(parts[0]), let c = Int(parts[1]), let n = Int(parts[2]), r >= 0, c >= 0, n >= 0 else {
            throw fail(.sizeLine, number, "expected the size line 'rows columns entries' (three non-negative integers), found '\(text.prefix(80))'")
        }
        guard r <= Int(Int32.max), c <= Int(Int32.max) else {
            throw fail(.sizeLine, number, "matrix of \(r) x \(c) is larger than CellWeave's 32-bit indices allow")
        }
        header.rows = r
        header.cols = c
        header.entries = n
        (outRows, outCols) = transpose ? (c, r) : (r, c)
        // Whatever the entries: the row counts and the CSR's row pointers (8 bytes each per row),
        // and a name or a per-column sum for every column (16 bytes).
        if let refusal = MemoryLimit.refusal(needing: (outRows + 1) * 16 + outCols * 16) {
            throw fail(.sizeLine, number, "a matrix of \(r) x \(c) \(refusal)")
        }
        // Duplicates are legal, so n may exceed r * c, but a size line is no reason to allocate
        // more, nor to reserve more entries than the file could hold (4 bytes each at least, and
        // deflate inflates at most 1032-fold): the arrays grow if there are more.
        let bound = fileBytes.map { Int(min(Int64(Int.max / 2), $0 * 1032 / 4)) } ?? Int.max
        minor.reserveCapacity(min(n, r * c, bound))
        values.reserveCapacity(min(n, r * c, bound))
        rowCounts = [Int](repeating: 0, count: outRows)
    }

    @inline(__always)
    mutating func entry(_ line: UnsafeBufferPointer<UInt8>, _ number: Int) throws {
        var p = 0
        let n = line.count
        @inline(__always) func skipBlanks() {
            while p < n && (line[p] == 32 || line[p] == 9) { p += 1 }
        }
        @inline(__always) func index(_ size: Int, _ name: String) throws -> Int {
            skipBlanks()
            let start = p
            var v = 0
            while p < n, line[p] &- 48 < 10 {
                v = v &* 10 &+ Int(line[p] &- 48)
                p += 1
                if v > size { break }
            }
            if p == start || (p < n && line[p] != 32 && line[p] != 9 && v <= size) {
                throw fail(.value, number, "expected an integer \(name) index, found '\(token(line, from: start))'")
            }
            guard v >= 1, v <= size else {
                throw fail(.index, number, "\(name) index \(token(line, from: start)) is outside 1...\(size)")
            }
            return v - 1
        }
        skipBlanks()
        if p == n { return } // a blank line
        seen += 1
        if seen > header.entries {
            throw fail(.entryCount, number, "more entries than the \(header.entries) declared in the size line")
        }
        let i = try index(header.rows, "row")
        let j = try index(header.cols, "column")
        var value: Float = 1
        skipBlanks()
        switch header.field {
        case .pattern:
            break
        case .integer:
            let start = p
            if p < n && line[p] == UInt8(ascii: "-") {
                throw fail(.value, number, "negative value \(token(line, from: start)) in an integer (count) matrix")
            }
            if p < n && line[p] == UInt8(ascii: "+") { p += 1 }
            var v = 0
            let digitsStart = p
            while p < n, line[p] &- 48 < 10, v < 1 << 53 {
                v = v * 10 + Int(line[p] &- 48)
                p += 1
            }
            if p == digitsStart || (p < n && line[p] != 32 && line[p] != 9) {
                let text = token(line, from: start)
                if text.isEmpty {
                    throw fail(.value, number, "missing value: an integer matrix entry needs 'row column value'")
                }
                let kind = Double(text) != nil ? "non-integer" : "non-numeric"
                throw fail(.value, number, "\(kind) value '\(text)' in an integer matrix")
            }
            value = Float(v)
        case .real:
            let start = p
            guard let v = parseReal(line, &p) else {
                let text = token(line, from: start)
                throw fail(.value, number, text.isEmpty ? "missing value: a real matrix entry needs 'row column value'"
                                                        : "non-numeric value '\(text)'")
            }
            value = Float(v)
        }
        skipBlanks()
        if p < n {
            throw fail(.value, number, "unexpected text '\(token(line, from: p))' after the entry")
        }
        let (row, col) = transpose ? (j, i) : (i, j)
        if rowIndices == nil && row < lastRow {
            // Out of row order: from now on keep every entry's row explicitly.
            var rows = [Int32]()
            rows.reserveCapacity(minor.capacity)
            for r in 0..<outRows where rowCounts[r] > 0 {
                rows.append(contentsOf: repeatElement(Int32(r), count: rowCounts[r]))
            }
            rowIndices = rows
        }
        if rowIndices != nil {
            rowIndices!.append(Int32(row))
        } else {
            rowCounts[row] += 1
            lastRow = row
        }
        minor.append(Int32(col))
        values.append(value)
    }

    func token(_ line: UnsafeBufferPointer<UInt8>, from start: Int) -> String {
        var end = start
        while end < line.count && line[end] != 32 && line[end] != 9 { end += 1 }
        return String(decoding: UnsafeBufferPointer(rebasing: line[start..<end]), as: UTF8.self)
    }

    mutating func finish(lastLine: Int) throws -> (header: MatrixMarketHeader, matrix: CSRMatrix) {
        switch phase {
        case .banner:
            throw fail(.empty, max(lastLine, 1), "the file is empty: expected a '%%MatrixMarket' header")
        case .size:
            throw fail(.sizeLine, max(lastLine, 1), "the file ends before the size line 'rows columns entries'")
        case .entries:
            break
        }
        guard seen == header.entries else {
            throw fail(.entryCount, lastLine, "the file ends after \(seen) entries, but the size line declares \(header.entries)")
        }
        let matrix: CSRMatrix
        if let rowIndices {
            matrix = try CSRMatrix(rows: outRows, cols: outCols, rowIndices: rowIndices, colIndices: minor, values: values)
        } else {
            var indptr = [Int](repeating: 0, count: outRows + 1)
            for r in 0..<outRows { indptr[r + 1] = indptr[r] + rowCounts[r] }
            var storage = CompressedSparseStorage(major: outRows, minor: outCols, indptr: indptr, indices: minor, values: values)
            minor = []
            values = []
            storage.canonicalize()
            matrix = CSRMatrix(storage: storage)
        }
        return (header, matrix)
    }
}

/// Decimal with optional sign, fraction and exponent. Simple decimals are converted exactly
/// (integer mantissa over an exact power of ten, as correctly rounded as strtod); anything
/// longer goes to strtod.
@inline(__always)
func parseReal(_ line: UnsafeBufferPointer<UInt8>, _ p: inout Int) -> Double? {
    let n = line.count
    let start = p
    var negative = false
    if p < n && (line[p] == UInt8(ascii: "-") || line[p] == UInt8(ascii: "+")) {
        negative = line[p] == UInt8(ascii: "-")
        p += 1
    }
    var mantissa: UInt64 = 0
    var digits = 0
    var fractionDigits = 0
    while p < n, line[p] &- 48 < 10 {
        mantissa = mantissa &* 10 &+ UInt64(line[p] &- 48)
        digits += 1
        p += 1
    }
    if p < n && line[p] == UInt8(ascii: ".") {
        p += 1
        while p < n, line[p] &- 48 < 10 {
            mantissa = mantissa &* 10 &+ UInt64(line[p] &- 48)
            digits += 1
            fractionDigits += 1
            p += 1
        }
    }
    let atEnd = p == n || line[p] == 32 || line[p] == 9
    if digits > 0 && digits <= 15 && atEnd {
        let v = Double(mantissa) / exactPowersOfTen[fractionDigits]
        return negative ? -v : v
    }
    // Exponents, long mantissas, inf/nan: let the C library decide.
    var end = start
    while end < n && line[end] != 32 && line[end] != 9 { end += 1 }
    let text = String(decoding: UnsafeBufferPointer(rebasing: line[start..<end]), as: UTF8.self)
    guard let v = Double(text), v.isFinite else { return nil }
    p = end
    return v
}

private let exactPowersOfTen: [Double] = (0...15).map { k in (0..<k).reduce(1.0) { acc, _ in acc * 10 } }
