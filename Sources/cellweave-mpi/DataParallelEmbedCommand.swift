import ArgumentParser
import CellWeaveCommands

/// `cellweave embed` on every rank, each embedding its share of the cells.
struct DataParallelEmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Embed as cellweave embed does, data-parallel: each rank embeds a share of the cells read from the .h5ad's rows, rank 0 gathers the embedding and writes the output. Same options as cellweave embed, for models of RNA alone and batches the model knows, without --corrected-expression or --impute.")

    @OptionGroup var embed: EmbedCommand

    func run() throws { try embed.run(processGroup: MPIProcessGroup()) }
}
