import ArgumentParser
import CellWeaveCommands

/// `cellweave score` on every rank, each scoring its share of the cells.
struct DataParallelScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score as cellweave score does, data-parallel: each rank scores a share of the cells (and of a reference file's) read from the .h5ad's rows, rank 0 gathers the scores, calibrates them and writes the output. Same options as cellweave score, for models of RNA alone, batches the model knows and --method model.")

    @OptionGroup var score: ScoreCommand

    func run() throws { try score.run(processGroup: MPIProcessGroup()) }
}
