/// Data-parallel gradient sums and Adam's update through memory the processes of a machine share:
/// the weights and Adam's moments live there once a machine, each process's gradients in its own
/// slab. After a backward pass each process sums one shard of the gradients over the slabs, in
/// local-rank order (so reruns are bit-identical), then over the machines (the processes of its
/// local rank elsewhere hold the same shard), and updates that shard; all then read the new
/// weights in place. Against an allreduce of the whole gradient and Adam run whole on every
/// process, nothing is sent or copied on the machine and each process updates only its share.
final class ShardedUpdate {
    private let memory: any MachineSharedMemory
    private let optimizer: Adam<Float>
    /// Where every process of this machine writes its gradients, in local-rank order.
    private let slabs: [UnsafeMutablePointer<Float>]
    /// The flat layout's length (each parameter padded to 16 floats, 64 bytes), this process's part
    /// of it, and that part as slices of the parameters for Adam.
    private let length: Int
    private let shard: Range<Int>
    private let slices: [Adam<Float>.Slice]

    /// Nil when the group cannot share memory (a collective call: every process makes it at once).
    static func make(optimizer: Adam<Float>, group: any ProcessGroup) -> ShardedUpdate? {
        var offsets: [Int] = [], length = 0
        for p in optimizer.parameters {
            offsets.append(length)
            length += (p.count + 15) / 16 * 16
        }
        guard let memory = group.machineSharedMemory(shared: 3 * length, perProcess: length) else { return nil }
        return ShardedUpdate(optimizer: optimizer, memory: memory, offsets: offsets, length: length)
    }

    private init(optimizer: Adam<Float>, memory: any MachineSharedMemory, offsets: [Int], length: Int) {
        self.optimizer = optimizer
        self.memory = memory
        self.length = length
        let processes = memory.localSize, local = memory.localRank
        let weights = memory.floats, first = weights + length, second = weights + 2 * length
        slabs = (0..<processes).map { weights + (3 + $0) * length }
        // Every process holds the same weights and moments; the first of the machine copies them.
        for (p, parameter) in optimizer.parameters.enumerated() {
            parameter.value.move(to: weights + offsets[p], copying: local == 0)
            optimizer.firstMoments[p].move(to: first + offsets[p], copying: local == 0)
            optimizer.secondMoments[p].move(to: second + offsets[p], copying: local == 0)
            parameter.gradient.move(to: slabs[local] + offsets[p])
        }
        // Shards start at multiples of 8 floats, so each slice starts at one of its parameter.
        let start = { (k: Int) in k == processes ? length : k * length / processes / 8 * 8 }
        let shard = start(local)..<start(local + 1)
        self.shard = shard
        slices = optimizer.parameters.indices.compactMap { p in
            let lower = max(shard.lowerBound, offsets[p]), upper = min(shard.upperBound, offsets[p] + optimizer.parameters[p].count)
            return lower < upper ? (p, (lower - offsets[p])..<(upper - offsets[p])) : nil
        }
        memory.synchronize()
    }

    /// This process's shard of the gradients becomes their sum over every process, in its slab.
    func sumGradients() {
        memory.synchronize()  // every slab holds its process's gradients
        let own = slabs[memory.localRank], first = slabs[0], rest = slabs.dropFirst()
        let lanes = shard.count / 8
        for v in 0..<lanes {
            let i = shard.lowerBound + 8 * v
            var s = Self.load(first + i)
            for slab in rest { s += Self.load(slab + i) }
            UnsafeMutableRawPointer(own + i).storeBytes(of: s, as: SIMD8<Float>.self)
        }
        for i in (shard.lowerBound + 8 * lanes)..<shard.upperBound {
            own[i] = rest.reduce(first[i]) { $0 + $1[i] }
        }
        memory.sumAcrossMachines(own + shard.lowerBound, count: shard.count)
    }

    /// The L2 norm of the summed gradients, over every shard.
    func gradientNorm() -> Double { memory.sumOnMachine(optimizer.gradientSquaredSum(slices)).squareRoot() }

    /// Adam's step on this process's shard (`norm` from `gradientNorm()` when clipping); returns once
    /// every process's shard is updated, with this process's slab zero for the next backward pass.
    func step(clipNorm: Double? = nil, norm: Double? = nil) {
        optimizer.step(clipNorm: clipNorm, norm: norm, slices: slices)
        memory.synchronize()  // the weights are new everywhere, and no one reads this slab any more
        let own = slabs[memory.localRank]
        own.update(repeating: 0, count: shard.lowerBound)
        (own + shard.upperBound).update(repeating: 0, count: length - shard.upperBound)
    }

    private static func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }
}
