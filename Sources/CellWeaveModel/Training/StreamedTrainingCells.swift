import CellWeaveCore
import Foundation

/// Counts too large for memory, read from disk in blocks of consecutive cells (block shuffling,
/// as the CELLxGENE Census and scDataset loaders do): the split holds out whole blocks; an epoch
/// visits the training blocks in a shuffled order, a window of several blocks at a time with the
/// window's cells shuffled, and reads the next window on a second thread while the current one
/// trains. Two windows of counts are in memory at a time, plus per cell only its covariate codes.
///
/// A streamed run is reproducible bit for bit for a seed and thread count, but it is not the
/// in-memory run: its held-out cells are whole blocks and its minibatches come from one window.
///
/// In data-parallel training each process reads the blocks it holds (block b of every window
/// is held by process b mod size, so each window splits near evenly) and a cell process h holds
/// is -(h + 1) in the windows' orders when h is another; the split, the shuffles and so the global minibatches are those of one
/// process streaming every block.
public final class StreamedTrainingCells: TrainingCells {
    public let cells: Int
    public let layout: StreamLayout
    /// This process and how many share the blocks ((0, 1) alone).
    public let process: (rank: Int, size: Int)
    private let genes: Int
    /// Per covariate key, every cell's category code (0..<categoryCounts[k]).
    private let codes: [[Int32]]
    private let categoryCounts: [Int]
    private let entries: (Range<Int>) -> Int
    private let read: (Range<Int>) throws -> CSRMatrix

    /// `read(range)`: those cells' counts in the model's genes. It is called on one thread at a
    /// time, but not always the caller's. `entries(range)`: at most how many non-zeros it returns
    /// (the file's row pointers tell), so that a window's arrays are allocated once at their size:
    /// grown by appending, they would hold up to twice the window.
    /// `genes`: the columns `read` returns.
    public init(codes: [[Int32]], categoryCounts: [Int], genes: Int, layout: StreamLayout, process: (rank: Int, size: Int) = (0, 1),
                entries: @escaping (Range<Int>) -> Int, read: @escaping (Range<Int>) throws -> CSRMatrix) {
        precondition(!codes.isEmpty && codes.count == categoryCounts.count && process.rank >= 0 && process.rank < process.size)
        cells = codes[0].count
        self.genes = genes
        self.process = process
        self.codes = codes
        self.categoryCounts = categoryCounts
        self.layout = layout
        self.entries = entries
        self.read = read
    }

    public var covariateKeys: Int { categoryCounts.count }
    public var readsAhead: Bool { true }
    public var blocks: Int { (cells + layout.blockRows - 1) / layout.blockRows }

    func cells(ofBlock b: Int) -> Range<Int> { b * layout.blockRows..<min((b + 1) * layout.blockRows, cells) }

    private func holds(_ block: Int) -> Bool { block % process.size == process.rank }

    /// Each cell of the window of `blocks`, in order: its index in this process's part of the
    /// window, or -(h + 1) where another process h holds its block.
    private func localIndices(_ blocks: [Int]) -> [Int] {
        var out: [Int] = [], next = 0
        for b in blocks {
            let n = cells(ofBlock: b).count
            if holds(b) {
                out += next..<(next + n)
                next += n
            } else {
                out += repeatElement(-(b % process.size) - 1, count: n)
            }
        }
        return out
    }

    public func split(trainFraction: Double, seed: UInt64) -> (train: [Int], validation: [Int]) {
        let (train, held) = TrainingData.split(blocks, trainFraction: trainFraction, seed: seed)
        return (self.cells(of: train), self.cells(of: held))
    }

    /// The cells of `blocks`, in their order, in an array of exactly their number (a list of
    /// millions grown by appending would hold up to twice that).
    private func cells(of blocks: [Int]) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(blocks.reduce(0) { $0 + cells(ofBlock: $1).count })
        for b in blocks { out.append(contentsOf: cells(ofBlock: b)) }
        return out
    }

    /// The blocks holding `cells` (sorted), each once; the split keeps blocks whole.
    private func blocks(of cells: [Int]) -> [Int] {
        var out: [Int] = []
        for c in cells where out.last != c / layout.blockRows { out.append(c / layout.blockRows) }
        return out
    }

    public func forEachTrainingWindow(_ train: [Int], generator: inout SeededGenerator,
                                      _ body: (TrainingData, [Int], inout SeededGenerator) throws -> Void) throws {
        var order = blocks(of: train)
        Trainer.shuffle(&order, &generator)
        // Within a window the blocks are read in file order: its cells are shuffled anyway.
        let windows = stride(from: 0, to: order.count, by: layout.windowBlocks).map {
            order[$0..<min($0 + layout.windowBlocks, order.count)].sorted()
        }
        try forEach(windows) { blocks, data in
            // Drawn over the whole window, as one process draws it.
            var visit = Array(0..<blocks.reduce(0) { $0 + cells(ofBlock: $1).count })
            Trainer.shuffle(&visit, &generator)
            if process.size > 1 {
                let local = localIndices(blocks)
                visit = visit.map { local[$0] }
            }
            try body(data, visit, &generator)
        }
    }

    public func forEachWindow(_ cells: [Int], _ body: (TrainingData, [Int]) throws -> Void) throws {
        let all = blocks(of: cells)
        let windows = stride(from: 0, to: all.count, by: layout.windowBlocks).map { Array(all[$0..<min($0 + layout.windowBlocks, all.count)]) }
        try forEach(windows) { blocks, data in try body(data, localIndices(blocks)) }
    }

    /// RNA alone: nothing to estimate from the data.
    public func initialise(_ model: VariationalAutoencoder<Float>, seed: UInt64) {}

    /// Each window's blocks and data (of the blocks this process holds) in turn, the next one read
    /// ahead while `body` runs on this one.
    private func forEach(_ windows: [[Int]], _ body: ([Int], TrainingData) throws -> Void) throws {
        guard !windows.isEmpty else { return }
        var pending = WindowRead { try self.window(windows[0].filter(self.holds)) }
        // The reader may be the only thread in libhdf5 (not built thread-safe): none is left
        // reading when this returns, even by an error.
        defer { pending.finish() }
        for w in windows.indices {
            let data = try pending.result()
            if w + 1 < windows.count { pending = WindowRead { try self.window(windows[w + 1].filter(self.holds)) } }
            try body(windows[w], data)
        }
    }

    /// The cells of `blocks` (sorted) as one matrix: read block by block and appended, so only one
    /// block's counts are held twice.
    private func window(_ blocks: [Int]) throws -> TrainingData {
        var indptr = [0], indices: [Int32] = [], values: [Float] = []
        let ranges = blocks.map { cells(ofBlock: $0) }, capacity = ranges.reduce(0) { $0 + entries($1) }
        indptr.reserveCapacity(1 + ranges.reduce(0) { $0 + $1.count })
        indices.reserveCapacity(capacity)
        values.reserveCapacity(capacity)
        for range in ranges {
            let part = try read(range)
            precondition(part.cols == genes)
            let offset = indptr.last!
            indptr.append(contentsOf: part.indptr.dropFirst().map { $0 + offset })
            indices.append(contentsOf: part.indices)
            values.append(contentsOf: part.values)
        }
        let counts = CSRMatrix(uncheckedRows: indptr.count - 1, cols: genes, indptr: indptr, indices: indices, values: values)
        let windowCodes = codes.map { key in blocks.flatMap { key[cells(ofBlock: $0)] } }
        return TrainingData(counts: counts, codes: windowCodes, categoryCounts: categoryCounts)
    }
}
