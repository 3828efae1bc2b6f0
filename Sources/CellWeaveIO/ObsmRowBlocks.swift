/// An obsm matrix (float32, cells x `columns`) whose rows a stage computes block by block while
/// `H5adAdditionWriter` writes the file, so that the whole matrix is never in memory: `produce`
/// hands each block of rows, in any order, to the writer it is given.
public struct ObsmRowBlocks {
    public typealias RowWriter = (_ rows: Range<Int>, _ values: [Float]) throws -> Void
    public let name: String
    public let rows: Int
    public let columns: Int
    public let produce: (_ write: RowWriter) throws -> Void

    public init(name: String, rows: Int, columns: Int, produce: @escaping (_ write: RowWriter) throws -> Void) {
        self.name = name
        self.rows = rows
        self.columns = columns
        self.produce = produce
    }
}
