import CellWeaveCore

/// The chunk of counts a streamed PCA is filling from (set on the caller's thread between chunks,
/// read by the two filling threads).
final class CurrentChunk: @unchecked Sendable {
    private var block = CSRMatrix(uncheckedRows: 0, cols: 0, indptr: [0], indices: [], values: [])
    private var first = 0
    func set(_ b: CSRMatrix, first f: Int) { (block, first) = (b, f) }
    func get() -> (CSRMatrix, Int) { (block, first) }
}
