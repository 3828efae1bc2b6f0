import CellWeaveCore

/// One process's share of the cells in data-parallel training: consecutive cells `held` of all
/// `cells`, in memory. The split and each epoch's order are over all the cells, drawn with the
/// seed exactly as a single process over the whole data draws them; a cell process h holds is
/// -(h + 1) in the windows' orders when h is another, so the trainer knows each global
/// minibatch's size, this process's positions in it and who holds the others.
public struct CellShare: TrainingCells {
    public let data: TrainingData
    public let held: Range<Int>
    public let cells: Int
    /// Every process's cells, in rank order (consecutive ranges covering all the cells).
    public let shares: [Range<Int>]

    public init(data: TrainingData, rank: Int, shares: [Range<Int>]) {
        let held = shares[rank], cells = shares.last?.upperBound ?? 0
        precondition(data.cells == held.count && data.modalities.isEmpty && zip(shares, shares.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
        self.data = data
        self.held = held
        self.cells = cells
        self.shares = shares
    }

    public var covariateKeys: Int { data.categoryCounts.count }

    public func split(trainFraction: Double, seed: UInt64) -> (train: [Int], validation: [Int]) {
        TrainingData.split(cells, trainFraction: trainFraction, seed: seed)
    }

    private func local(_ cell: Int) -> Int {
        if held.contains(cell) { return cell - held.lowerBound }
        // The first share that ends after the cell holds it.
        var low = 0, high = shares.count - 1
        while low < high {
            let middle = (low + high) / 2
            if shares[middle].upperBound > cell { high = middle } else { low = middle + 1 }
        }
        return -(low + 1)
    }

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
