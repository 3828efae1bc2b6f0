import CellWeaveModel
import CMPI
import Foundation

/// The ranks of MPI_COMM_WORLD as the trainer's process group: sums are MPI_Allreduce in place,
/// which for a fixed number of ranks sums in a fixed order, so reruns are bit-identical.
final class MPIProcessGroup: ProcessGroup {
    let rank: Int
    let size: Int

    init() {
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_rank(cw_mpi_comm_world(), &r)
        MPI_Comm_size(cw_mpi_comm_world(), &s)
        rank = Int(r)
        size = Int(s)
    }

    func sum(_ values: UnsafeMutablePointer<Float>, count: Int) { allreduce(values, count, cw_mpi_float()) }
    func sum(_ values: UnsafeMutablePointer<Double>, count: Int) { allreduce(values, count, cw_mpi_double()) }

    func send(_ bytes: [UInt8], to: Int) {
        precondition(bytes.count <= Int(Int32.max))
        bytes.withUnsafeBytes { b in _ = MPI_Send(b.baseAddress, Int32(b.count), cw_mpi_byte(), Int32(to), Self.tag, cw_mpi_comm_world()) }
    }

    func receive(from: Int, into bytes: inout [UInt8]) {
        var status = MPI_Status(), count: Int32 = 0
        MPI_Probe(Int32(from), Self.tag, cw_mpi_comm_world(), &status)
        MPI_Get_count(&status, cw_mpi_byte(), &count)
        bytes.removeAll(keepingCapacity: true)
        bytes.append(contentsOf: repeatElement(0, count: Int(count)))
        bytes.withUnsafeMutableBytes { b in _ = MPI_Recv(b.baseAddress, count, cw_mpi_byte(), Int32(from), Self.tag, cw_mpi_comm_world(), &status) }
    }

    /// The tag of `send`'s messages (collectives do not match point-to-point ones).
    private static let tag: Int32 = 1

    /// CELLWEAVE_MPI_SHARED_MEMORY=off sums whole gradients by MPI_Allreduce instead (where a
    /// machine's shared memory is restricted); a number N shares among N ranks of a machine at most,
    /// as if each N were a machine of their own (what tests use for several machines on one).
    func machineSharedMemory(shared: Int, perProcess: Int) -> (any MachineSharedMemory)? {
        let setting = ProcessInfo.processInfo.environment["CELLWEAVE_MPI_SHARED_MEMORY"]
        if setting == "off" { return nil }
        return MPIMachineMemory(shared: shared, perProcess: perProcess, ranksPerMachine: setting.flatMap { Int32($0) }.flatMap { $0 > 0 ? $0 : nil })
    }

    func gather(_ values: [Float], counts: [Int]) throws -> [Float] { try gather(values, counts: counts, cw_mpi_float()) }
    func gather(_ values: [Double], counts: [Int]) throws -> [Double] { try gather(values, counts: counts, cw_mpi_double()) }

    private func gather<T: BinaryFloatingPoint>(_ values: [T], counts: [Int], _ type: MPI_Datatype) throws -> [T] {
        precondition(counts.count == size && counts[rank] == values.count)
        // MPI counts and displacements are 32-bit.
        let total = counts.reduce(0, +)
        guard total <= Int(Int32.max) else { throw GatherError(values: total) }
        let receive = counts.map { Int32($0) }, offsets = receive.indices.map { Int32(counts[..<$0].reduce(0, +)) }
        var out = [T](repeating: 0, count: rank == 0 ? total : 0)
        values.withUnsafeBufferPointer { send in
            out.withUnsafeMutableBufferPointer { o in
                _ = MPI_Gatherv(send.baseAddress, Int32(values.count), type, o.baseAddress, receive, offsets, type, 0, cw_mpi_comm_world())
            }
        }
        return out
    }

    private func allreduce(_ values: UnsafeMutableRawPointer, _ count: Int, _ type: MPI_Datatype) {
        // MPI's default error handler aborts every rank on failure, so the result needs no check.
        MPI_Allreduce(cw_mpi_in_place(), values, Int32(count), type, cw_mpi_sum(), cw_mpi_comm_world())
    }
}
