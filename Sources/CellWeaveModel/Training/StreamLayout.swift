/// How a streamed training run cuts its cells: blocks of consecutive cells (the unit of the
/// train / validation split and of the shuffle) and windows of blocks (what is in memory at once).
/// Part of a run's definition: a resumed run must cut the same way.
public struct StreamLayout: Codable, Sendable, Equatable {
    public var blockRows: Int
    public var windowBlocks: Int

    public init(blockRows: Int, windowBlocks: Int) {
        precondition(blockRows >= 1 && windowBlocks >= 1)
        self.blockRows = blockRows
        self.windowBlocks = windowBlocks
    }

    /// Blocks of up to 1,024 cells, a whole number of minibatches, and at least 100 of them where
    /// the data allows (so that a tenth held out is a mix of the file); windows as large as a
    /// quarter of `budget` at `bytesPerCell`, since two are in memory at once (one training, one
    /// being read).
    public static func fitting(budget: UInt64, cells: Int, bytesPerCell: Int, batchSize: Int) -> StreamLayout {
        let blockRows = max(batchSize, min(1024, cells / 100) / batchSize * batchSize)
        let windowRows = Int(budget / 4) / max(1, bytesPerCell)
        return StreamLayout(blockRows: blockRows, windowBlocks: max(1, windowRows / blockRows))
    }
}
