import CellWeaveCore

/// Counts that arrive block by block, in cell order: a matrix in memory is one block,
/// `hvg --max-memory` reads them from disk. Statistics over them add cells in cell order, so a
/// matrix gives the same bits whole or in blocks.
public struct CountBlocks {
    /// Every cell in one block: a pass that needs a finished sum may then fuse with the next.
    public let isWhole: Bool
    /// Calls `body(block, first cell)` for each block, in order.
    public let forEach: ((CSRMatrix, Int) throws -> Void) throws -> Void

    public init(_ matrix: CSRMatrix) {
        isWhole = true
        forEach = { try $0(matrix, 0) }
    }

    public init(streaming forEach: @escaping ((CSRMatrix, Int) throws -> Void) throws -> Void) {
        isWhole = false
        self.forEach = forEach
    }
}
