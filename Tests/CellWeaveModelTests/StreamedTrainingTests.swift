import CellWeaveCore
import Foundation
@testable import CellWeaveModel
import Testing

/// Training on counts streamed block by block (`StreamedTrainingCells`), here read from a matrix
/// in memory through the same closure a file's rows come through.
@Suite struct StreamedTrainingTests {
    let data = ModelTestData.data(cells: 400, genes: 24, categoryCounts: [3], seed: 21)
    /// The codes as the stream takes them (TrainingData holds them offset per key).
    var codes: [[Int32]] { data.categoryCodes }

    func entries(_ range: Range<Int>) -> Int { data.counts.indptr[range.upperBound] - data.counts.indptr[range.lowerBound] }

    /// Blocks of 16 cells (25 of them), windows of 4 blocks; `reads` records each block read.
    func streamed(reads: Reads? = nil, failAt: Int? = nil) -> StreamedTrainingCells {
        StreamedTrainingCells(codes: codes, categoryCounts: [3], genes: data.counts.cols, layout: StreamLayout(blockRows: 16, windowBlocks: 4), entries: entries) { range in
            reads?.append(range)
            if let failAt, range.contains(failAt) { throw CocoaError(.fileReadCorruptFile) }
            return try data.counts.rows(range)
        }
    }

    final class Reads: @unchecked Sendable {
        private let lock = NSLock()
        private var ranges: [Range<Int>] = []
        func append(_ r: Range<Int>) { lock.lock(); ranges.append(r); lock.unlock() }
        var all: [Range<Int>] { lock.lock(); defer { lock.unlock() }; return ranges }
    }

    func trainer(_ cells: StreamedTrainingCells, epochs: Int) throws -> Trainer {
        var config = ModelConfiguration(genes: 24, categoryCounts: [3])
        config.hidden = 16
        config.latent = 4
        var options = TrainingOptions(maxEpochs: epochs)
        options.batchSize = 16
        options.klWarmupEpochs = 2
        options.threads = 2
        options.seed = 5
        options.streaming = cells.layout
        return try Trainer(cells: cells, configuration: config, options: options)
    }

    @Test func theSplitHoldsOutWholeBlocks() throws {
        let t = try trainer(streamed(), epochs: 1)
        // 25 blocks: 25 - ceil(0.9 * 25) = 2 held out.
        #expect(t.validationCells.count == 32 && t.trainCells.count == 368)
        #expect(Set(t.validationCells).isDisjoint(with: t.trainCells))
        #expect(Set(t.validationCells.map { $0 / 16 }).count == 2)
    }

    /// An epoch reads each training block once and the held-out ones once (validation), and trains
    /// on every training cell once.
    @Test func anEpochReadsEveryBlockOnce() throws {
        let reads = Reads()
        let t = try trainer(streamed(reads: reads), epochs: 1)
        let record = try t.runEpoch()
        let read = reads.all
        #expect(read.count == 25 && Set(read.map(\.lowerBound)).count == 25)
        #expect(read.reduce(0) { $0 + $1.count } == 400)
        #expect(record.phaseSeconds["read_wait"] != nil)
        var visited = 0
        var generator = SeededGenerator(seed: 1)
        try t.source.forEachTrainingWindow(t.trainCells, generator: &generator) { window, order, _ in
            #expect(Set(order) == Set(0..<window.cells))
            visited += order.count
        }
        #expect(visited == t.trainCells.count)
    }

    @Test func aStreamedRunIsReproducibleAndResumesBitIdentically() throws {
        let a = try trainer(streamed(), epochs: 4), b = try trainer(streamed(), epochs: 4)
        try a.train()
        try b.train()
        #expect(a.model.tensors.map(\.values) == b.model.tensors.map(\.values))
        #expect(a.history.epochs.allSatisfy { $0.validationELBO?.isFinite == true })
        #expect(a.history.epochs.last!.reconstruction < a.history.epochs.first!.reconstruction)
        let first = try trainer(streamed(), epochs: 2)
        try first.train()
        let resumed = try trainer(streamed(), epochs: 4)
        try resumed.restore(first.checkpoint())
        try resumed.train()
        #expect(resumed.model.tensors.map(\.values) == a.model.tensors.map(\.values))
    }

    @Test func aCheckpointOfAnotherLayoutIsRefused() throws {
        let first = try trainer(streamed(), epochs: 1)
        try first.train()
        let other = StreamedTrainingCells(codes: codes, categoryCounts: [3], genes: data.counts.cols, layout: StreamLayout(blockRows: 32, windowBlocks: 2), entries: entries) { try data.counts.rows($0) }
        let t = try trainer(other, epochs: 2)
        #expect(throws: TrainingError.self) { try t.restore(first.checkpoint()) }
    }

    /// A block that fails to read stops the epoch with its error, and no read is left running.
    @Test func aFailedReadStopsTheEpoch() throws {
        let t = try trainer(streamed(failAt: 200), epochs: 1)
        #expect(throws: CocoaError.self) { try t.runEpoch() }
    }

    @Test func theLayoutFitsTheBudget() {
        // 2 million cells of 3.8 KB in 1 GiB: blocks of 1,024, windows of a quarter GiB.
        let layout = StreamLayout.fitting(budget: 1 << 30, cells: 2_000_000, bytesPerCell: 3_800, batchSize: 128)
        #expect(layout.blockRows == 1024 && layout.windowBlocks == (1 << 28) / 3_800 / 1024)
        // Few cells: blocks of one minibatch, one block a window when the budget is tiny.
        #expect(StreamLayout.fitting(budget: 1 << 10, cells: 5000, bytesPerCell: 100, batchSize: 128) == StreamLayout(blockRows: 128, windowBlocks: 1))
    }
}
