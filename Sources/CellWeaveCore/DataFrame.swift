/// An obs or var table: a string index (cell barcodes or gene names) and ordered named columns.
public struct DataFrame: Equatable, Sendable {
    public var index: [String] { didSet { indexOrigin = nil } }
    /// Name of the index column on disk (anndata writes `_index` unless the index was named).
    public var indexName: String
    public private(set) var columns: [(name: String, values: ColumnValues)]
    /// Where the index and each column were read from while they are unchanged (a change clears
    /// it), so that a writer can link to them instead of writing them again.
    public var indexOrigin: MatrixOrigin?
    public var columnOrigins: [String: MatrixOrigin] = [:]

    public init(index: [String], indexName: String = "_index") {
        self.index = index
        self.indexName = indexName
        self.columns = []
    }

    public var rowCount: Int { index.count }
    public var columnNames: [String] { columns.map(\.name) }

    public subscript(name: String) -> ColumnValues? {
        get { columns.first { $0.name == name }?.values }
    }

    /// Adds or replaces a column, keeping column order.
    public mutating func setColumn(_ name: String, _ values: ColumnValues) throws {
        guard values.count == index.count else {
            throw MatrixError.shapeMismatch(operation: "column '\(name)'", expected: "\(index.count) rows", found: "\(values.count)")
        }
        columnOrigins[name] = nil
        if let i = columns.firstIndex(where: { $0.name == name }) {
            columns[i].values = values
        } else {
            columns.append((name, values))
        }
    }

    public func selectingRows(_ rows: [Int]) -> DataFrame {
        var out = DataFrame(index: rows.map { index[$0] }, indexName: indexName)
        out.columns = columns.map { ($0.name, $0.values.selecting(rows)) }
        return out
    }

    /// Makes index entries unique the way anndata's `var_names_make_unique` does: the second
    /// occurrence of "A" becomes "A-1", the third "A-2", skipping names already taken.
    public mutating func makeIndexUnique(separator: String = "-") {
        var seen = Set(index)
        var counts: [String: Int] = [:]
        var firstSeen = Set<String>()
        for (i, name) in index.enumerated() {
            if firstSeen.insert(name).inserted { continue }
            var n = counts[name, default: 0]
            var candidate: String
            repeat {
                n += 1
                candidate = "\(name)\(separator)\(n)"
            } while seen.contains(candidate)
            counts[name] = n
            seen.insert(candidate)
            index[i] = candidate
        }
    }

    /// Marks the index and the columns still as read to be written as links to where they are stored.
    public mutating func linkUnchangedColumns() {
        indexOrigin?.asLink = true
        for name in columnOrigins.keys { columnOrigins[name]!.asLink = true }
    }

    public static func == (lhs: DataFrame, rhs: DataFrame) -> Bool {
        lhs.index == rhs.index && lhs.indexName == rhs.indexName && lhs.columns.count == rhs.columns.count
            && zip(lhs.columns, rhs.columns).allSatisfy { $0.name == $1.name && $0.values == $1.values }
    }
}
