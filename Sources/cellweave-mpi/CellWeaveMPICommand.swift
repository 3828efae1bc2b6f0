import ArgumentParser
import CellWeaveCommands

struct CellWeaveMPICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cellweave-mpi",
        abstract: "CellWeave's data-parallel commands, run under mpirun: mpirun -np N cellweave-mpi train IN.h5ad --batch-key batch -o MODEL; mpirun -np N cellweave-mpi embed (or score) MODEL IN.h5ad -o OUT.h5ad.",
        version: CellWeaveCommand.version,
        subcommands: [DataParallelTrainCommand.self, DataParallelEmbedCommand.self, DataParallelScoreCommand.self])
}
