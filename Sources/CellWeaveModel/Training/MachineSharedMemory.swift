/// Memory the processes of one machine share, for data-parallel steps that pass no messages
/// there: every process writes its gradients into its own slab, each sums one shard of them over
/// the slabs and updates that shard of the weights, which live once per machine (`ShardedUpdate`).
public protocol MachineSharedMemory: AnyObject {
    /// This process's index among the processes of its machine, and how many there are.
    var localRank: Int { get }
    var localSize: Int { get }
    /// The floats every process of this machine sees, zeroed at the start (the counts asked of
    /// `ProcessGroup.machineSharedMemory`).
    var floats: UnsafeMutablePointer<Float> { get }
    /// Waits for every process of this machine; the writes each made to `floats` before it are
    /// visible to all after it.
    func synchronize()
    /// In place, the element-wise sum over the processes of this local rank on every machine (those
    /// that hold the same shard); nothing to do on one machine.
    func sumAcrossMachines(_ values: UnsafeMutablePointer<Float>, count: Int)
    /// The sum over the processes of this machine.
    func sumOnMachine(_ value: Double) -> Double
}
