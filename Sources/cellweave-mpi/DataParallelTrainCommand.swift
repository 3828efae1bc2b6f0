import ArgumentParser
import CellWeaveCommands

/// `cellweave train` on every rank, each holding its share of the cells.
struct DataParallelTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train as cellweave train does, data-parallel: each rank holds a share of the cells, gradients and batch statistics are summed across ranks every step, rank 0 writes the model. Same options as cellweave train.")

    @OptionGroup var train: TrainCommand

    func run() throws { try train.run(processGroup: MPIProcessGroup()) }
}
