import CellWeaveCore

/// Where a trainer's cells come from: all of them in memory (`TrainingData`) or counts streamed
/// from disk block by block (`StreamedTrainingCells`). Either hands the trainer windows of cells in
/// memory, each a `TrainingData` with the order its cells are visited in, so the trainer's step
/// is the same for both.
public protocol TrainingCells {
    var cells: Int { get }
    var covariateKeys: Int { get }
    /// The seeded train / validation split, each sorted.
    func split(trainFraction: Double, seed: UInt64) -> (train: [Int], validation: [Int])
    /// One epoch over the `train` cells: windows in memory, each with its cells (indices into the
    /// window's data) in the order to visit them, shuffled with `generator`, which `body` goes on
    /// drawing from. In data-parallel training a cell another process h holds is -(h + 1).
    func forEachTrainingWindow(_ train: [Int], generator: inout SeededGenerator,
                               _ body: (TrainingData, [Int], inout SeededGenerator) throws -> Void) throws
    /// The given cells (the validation cells of the split) in windows, in order.
    func forEachWindow(_ cells: [Int], _ body: (TrainingData, [Int]) throws -> Void) throws
    /// Initial values that depend on the data (totalVI's empirical protein background prior).
    func initialise(_ model: VariationalAutoencoder<Float>, seed: UInt64)
    /// Whether windows are read from disk while the trainer steps (its waits for them are timed).
    var readsAhead: Bool { get }
}

extension TrainingCells {
    public var readsAhead: Bool { false }
}

extension TrainingData: TrainingCells {
    public var covariateKeys: Int { categoryCounts.count }

    public func split(trainFraction: Double, seed: UInt64) -> (train: [Int], validation: [Int]) {
        Self.split(cells, trainFraction: trainFraction, seed: seed)
    }

    /// Units (cells, or a stream's blocks) shuffled with the seed; the first
    /// n - ceil(fraction * n) are held out.
    static func split(_ units: Int, trainFraction: Double, seed: UInt64) -> (train: [Int], validation: [Int]) {
        var generator = SeededGenerator(seed: seed)
        var permutation = Array(0..<units)
        Trainer.shuffle(&permutation, &generator)
        let held = units - Int((trainFraction * Double(units)).rounded(.up))
        return (permutation[held...].sorted(), permutation[0..<held].sorted())
    }

    public func forEachTrainingWindow(_ train: [Int], generator: inout SeededGenerator,
                                      _ body: (TrainingData, [Int], inout SeededGenerator) throws -> Void) throws {
        var order = train
        Trainer.shuffle(&order, &generator)
        try body(self, order, &generator)
    }

    public func forEachWindow(_ cells: [Int], _ body: (TrainingData, [Int]) throws -> Void) throws {
        try body(self, cells)
    }

    public func initialise(_ model: VariationalAutoencoder<Float>, seed: UInt64) {
        Trainer.initialiseProteinBackground(model, data: self, seed: seed)
    }
}
