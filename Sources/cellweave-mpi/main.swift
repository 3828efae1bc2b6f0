import ArgumentParser
import CMPI
import Foundation

// Every rank parses and runs the command. A rank that fails reports its error and aborts the job:
// the others would otherwise wait for it in their next allreduce.
MPI_Init(nil, nil)
var rank: Int32 = 0
MPI_Comm_rank(cw_mpi_comm_world(), &rank)
do {
    var command = try CellWeaveMPICommand.parseAsRoot()
    try command.run()
} catch {
    let code = CellWeaveMPICommand.exitCode(for: error)
    if code == .success {
        // --help and --version: printed once.
        if rank == 0 { print(CellWeaveMPICommand.fullMessage(for: error)) }
    } else {
        FileHandle.standardError.write(Data("cellweave-mpi (rank \(rank)): \(CellWeaveMPICommand.fullMessage(for: error))\n".utf8))
        MPI_Abort(cw_mpi_comm_world(), code.rawValue)
    }
}
MPI_Finalize()
