import CellWeaveModel
import CMPI

/// MPI-3 shared memory (MPI_Win_allocate_shared) among the ranks of one machine
/// (MPI_COMM_TYPE_SHARED), with the ranks of the same local rank on every machine as the group
/// that sums a shard across machines. Only when every machine runs as many ranks, so that the
/// shards line up.
final class MPIMachineMemory: MachineSharedMemory {
    let localRank: Int
    let localSize: Int
    let floats: UnsafeMutablePointer<Float>
    private let machine: MPI_Comm
    /// The ranks of this local rank on every machine; nil on one machine.
    private let peers: MPI_Comm?
    private let window: MPI_Win

    // The window and communicators are never freed: the model's weights live in the window until
    // the process ends, and MPI_Finalize releases them.
    init?(shared: Int, perProcess: Int, ranksPerMachine: Int32? = nil) {
        let world = cw_mpi_comm_world()
        var worldRank: Int32 = 0, worldSize: Int32 = 0
        MPI_Comm_rank(world, &worldRank)
        MPI_Comm_size(world, &worldSize)
        var node: MPI_Comm?
        MPI_Comm_split_type(world, cw_mpi_comm_type_shared(), worldRank, cw_mpi_info_null(), &node)
        guard var machine = node else { return nil }
        var local: Int32 = 0, size: Int32 = 0
        MPI_Comm_rank(machine, &local)
        if let ranksPerMachine {
            MPI_Comm_split(node, local / ranksPerMachine, local, &node)
            guard let part = node else { return nil }
            machine = part
            MPI_Comm_rank(machine, &local)
        }
        MPI_Comm_size(machine, &size)
        // The largest and smallest number of ranks a machine runs (the smallest negated).
        var extremes: [Int32] = [size, -size]
        MPI_Allreduce(cw_mpi_in_place(), &extremes, 2, cw_mpi_int(), cw_mpi_max(), world)
        guard extremes[0] == -extremes[1] else { return nil }
        var peers: MPI_Comm?
        if size < worldSize { MPI_Comm_split(world, local, worldRank, &peers) }
        let count = shared + Int(size) * perProcess
        var base: UnsafeMutableRawPointer?, window: MPI_Win?
        MPI_Win_allocate_shared(local == 0 ? MPI_Aint(count * MemoryLayout<Float>.stride) : 0, Int32(MemoryLayout<Float>.stride),
                                cw_mpi_info_null(), machine, &base, &window)
        var bytes: MPI_Aint = 0, unit: Int32 = 0
        guard let window else { return nil }
        MPI_Win_shared_query(window, 0, &bytes, &unit, &base)
        guard let base, bytes >= count * MemoryLayout<Float>.stride else { return nil }
        MPI_Win_lock_all(cw_mpi_mode_nocheck(), window)
        floats = base.bindMemory(to: Float.self, capacity: count)
        if local == 0 { floats.initialize(repeating: 0, count: count) }
        (localRank, localSize, self.machine, self.peers, self.window) = (Int(local), Int(size), machine, peers, window)
        synchronize()
    }

    func synchronize() {
        MPI_Win_sync(window)
        MPI_Barrier(machine)
        MPI_Win_sync(window)
    }

    func sumAcrossMachines(_ values: UnsafeMutablePointer<Float>, count: Int) {
        guard let peers else { return }
        MPI_Allreduce(cw_mpi_in_place(), values, Int32(count), cw_mpi_float(), cw_mpi_sum(), peers)
    }

    func sumOnMachine(_ value: Double) -> Double {
        var sum = value
        MPI_Allreduce(cw_mpi_in_place(), &sum, 1, cw_mpi_double(), cw_mpi_sum(), machine)
        return sum
    }
}
