import ArgumentParser
import CellWeaveCore

/// The `cellweave` command and its subcommands; the `cellweave` executable only runs it.
public struct CellWeaveCommand: ParsableCommand {
    public static let version = "0.1.0"

    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "cellweave",
        abstract: "Single-cell count matrices in, batch-corrected embeddings and calibrated anomaly scores out.",
        version: version,
        subcommands: [InspectCommand.self, ConvertCommand.self, ExportCommand.self, QCCommand.self, MergeCommand.self, HVGCommand.self, ResidualsCommand.self, PCACommand.self, SimulateCommand.self, TrainCommand.self, EmbedCommand.self, LoadingsCommand.self, ScoreCommand.self, NeighborsCommand.self, ClusterCommand.self, EvaluateCommand.self, UMAPCommand.self, ReportCommand.self]
    )
}
