/// The processes of a data-parallel run (MPI ranks, `cellweave-mpi`): each holds a share of the
/// cells and identical parameters; batch statistics, gradients and losses are summed across them.
public protocol ProcessGroup: AnyObject {
    var rank: Int { get }
    var size: Int { get }
    /// Element-wise sum over every process, in place; every process gets the same result.
    func sum(_ values: UnsafeMutablePointer<Float>, count: Int)
    func sum(_ values: UnsafeMutablePointer<Double>, count: Int)
    /// Every process's `values`, concatenated in rank order, on the first process (rank 0); empty
    /// on the others. `counts[r]`: how many values process r sends.
    func gather(_ values: [Float], counts: [Int]) throws -> [Float]
    func gather(_ values: [Double], counts: [Int]) throws -> [Double]
    /// Sends `bytes` to process `to`, which takes them with `receive(from:)`; a process sends to
    /// several in rank order, and one receives from several in rank order.
    func send(_ bytes: [UInt8], to: Int)
    /// What process `from` sends next, in `bytes` (resized to it).
    func receive(from: Int, into bytes: inout [UInt8])
    /// Memory the processes of each machine share, when the group can give it: `shared` floats and
    /// then `perProcess` for each of the machine's processes, in local-rank order. A collective call
    /// (every process asks at once, for the same counts); nil when it cannot.
    func machineSharedMemory(shared: Int, perProcess: Int) -> (any MachineSharedMemory)?
}

extension ProcessGroup {
    public func machineSharedMemory(shared: Int, perProcess: Int) -> (any MachineSharedMemory)? { nil }

    /// The cells `rank` holds of `cells` split into `size` consecutive, near-equal ranges.
    public func heldCells(of cells: Int) -> Range<Int> { heldCells(of: cells, rank: rank) }

    public func heldCells(of cells: Int, rank r: Int) -> Range<Int> { (r * cells / size)..<((r + 1) * cells / size) }

    /// The cells `rank` holds when they are split in whole runs of `unit` cells (the last run
    /// may be shorter): consecutive, near-equal ranges that start at a multiple of `unit`.
    public func heldCells(of cells: Int, inRunsOf unit: Int, rank r: Int? = nil) -> Range<Int> {
        let runs = heldCells(of: (cells + unit - 1) / unit, rank: r ?? rank)
        return min(runs.lowerBound * unit, cells)..<min(runs.upperBound * unit, cells)
    }
}
