import CellWeaveCore

/// One process's share of the cells in data-parallel training: consecutive cells `held` of all
/// `cells`, in memory. The split and each epoch's order are over all the cells, drawn with the
/// seed exactly as a single process over the whole data draws them; a cell another process
/// holds is index -1 in the windows' orders, so the trainer knows each global minibatch's size
/// and this process's positions in it.
public struct CellShare: TrainingCells {
    public let data: TrainingData
    public let held: Range<Int>
    public let cells: Int

    public init(data: TrainingData, held: Range<Int>, cells: Int) {
        precondition(data.cells == held.count && held.upperBound <= cells && data.modalities.isEmpty)
        self.data = data
        self.held = held
        self.cells = cells
    }

    public var covariateKeys: Int { data.categoryCounts.count }

    public func split(trainFraction: Double, seed: UInt64) -> (train: [Int], validation: [Int]) {
        TrainingData.split(cells, trainFraction: trainFraction, seed: seed)
    }

    private func local(_ cell: Int) -> Int { held.contains(cell) ? cell - held.lowerBound : -1 }

    public func forEachTrainingWindow(_ train: [Int], generator: inout SeededGenerator,
                                      _ body: (TrainingData, [Int], inout SeededGenerator) throws -> Void) throws {
        var order = train
        Trainer.shuffle(&order, &generator)
        try body(data, order.map(local), &generator)
    }

    public func forEachWindow(_ cells: [Int], _ body: (TrainingData, [Int]) throws -> Void) throws {
        try body(data, cells.map(local))
    }

    /// RNA alone: nothing to estimate from the data.
    public func initialise(_ model: VariationalAutoencoder<Float>, seed: UInt64) {}
}
