/// The processes of a data-parallel run (MPI ranks, `cellweave-mpi`): each holds a share of the
/// cells and identical parameters; batch statistics, gradients and losses are summed across them.
public protocol ProcessGroup: AnyObject {
    var rank: Int { get }
    var size: Int { get }
    /// Element-wise sum over every process, in place; every process gets the same result.
    func sum(_ values: UnsafeMutablePointer<Float>, count: Int)
    func sum(_ values: UnsafeMutablePointer<Double>, count: Int)
}

extension ProcessGroup {
    /// The cells `rank` holds of `cells` split into `size` consecutive, near-equal ranges.
    public func heldCells(of cells: Int) -> Range<Int> { (rank * cells / size)..<((rank + 1) * cells / size) }
}
