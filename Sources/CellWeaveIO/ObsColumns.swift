import CellWeaveCore

/// Columns of an h5ad's obs read by name, without its index or its other columns: what a stage
/// streaming millions of cells needs of the table (the index alone holds 16 bytes a cell, a
/// float column 8). Cell names are read when asked for, a range of the index at a time.
public struct ObsColumns {
    public let file: String
    /// The cells the table describes (its index's length).
    public let cells: Int
    /// Every column of the table, in its order.
    public let columnNames: [String]
    private let values: [String: ColumnValues]

    /// Reads the columns of `names` the table has; the others are nil.
    public init(path: String, reading names: [String]) throws {
        let (group, indexName, order) = try H5adReader.table(try HDF5File.open(path), "obs")
        let index = try group.dataset(indexName)
        guard index.shape.count == 1 else { throw index.error(.value, "the index should be one-dimensional, not of shape \(index.shape)") }
        file = path
        cells = index.shape[0]
        columnNames = order
        var values: [String: ColumnValues] = [:]
        for name in names where order.contains(name) && values[name] == nil {
            values[name] = try H5adReader.readColumn(group, name, rows: cells)
        }
        self.values = values
    }

    public subscript(name: String) -> ColumnValues? { values[name] }

    /// The names of `selected` cells (rows of the table), in that order: the index is read
    /// 65,536 names at a time, only the ranges that hold a selected cell.
    public func cellNames(_ selected: [Int]) throws -> [String] {
        let (group, indexName, _) = try H5adReader.table(try HDF5File.open(file), "obs")
        let index = try group.dataset(indexName)
        var names = [String](repeating: "", count: selected.count)
        let span = 1 << 16
        let byRange = Dictionary(grouping: selected.indices) { selected[$0] / span }
        for (start, positions) in byRange.sorted(by: { $0.key < $1.key }) {
            let range = start * span..<min((start + 1) * span, cells)
            let read = try index.readStrings(range)
            for p in positions {
                guard range.contains(selected[p]) else { throw index.error(.value, "cell \(selected[p]) of \(cells)") }
                names[p] = read[selected[p] - range.lowerBound]
            }
        }
        return names
    }
}
