/// The banner and size line of a Matrix Market coordinate file.
public struct MatrixMarketHeader: Equatable, Sendable {
    public enum Field: String, Sendable { case integer, real, pattern }
    public var field: Field
    public var rows: Int
    public var cols: Int
    public var entries: Int
}
