import CellWeaveCore

/// Evens out the cells each process computes of a global minibatch in data-parallel training. The
/// cells of a shuffled minibatch fall to the processes that hold them at random (128 cells on two
/// processes: 64 plus or minus 6 each), and every process waits for the slowest at each batch
/// norm's sums and at the gradient sums. So each process computes its quota (the minibatch split
/// evenly, the first processes one cell more): it keeps its own cells up to the quota, in position
/// order, and sends the counts of the rest to the processes short of theirs, in rank order. Every
/// process works this out alike from who holds each position; each cell is computed once, at its
/// position, so the sums are those of one process up to their order.
final class MinibatchBalance {
    private let group: any ProcessGroup
    private let genes: Int
    private let keys: Int
    /// This step's cells of this process's own data it computes, and the positions of all its rows
    /// (those cells, then the received ones by sender), and its rows by ascending position.
    private(set) var kept: [Int] = []
    private(set) var positions: [Int] = []
    private(set) var rowsByPosition: [Int] = []
    /// The received cells' counts (CSR arrays, genes of the model) and covariate codes, per key.
    private var indptr: [Int] = [0], indices: [Int32] = [], values: [Float] = []
    private(set) var codes: [[Int32]]
    /// Per position, the process that computes it; per process, the cells it computes.
    private var computer: [Int] = [], computed: [Int]
    private var bytes: [UInt8] = []

    init(group: any ProcessGroup, genes: Int, covariateKeys: Int) {
        self.group = group
        self.genes = genes
        keys = covariateKeys
        codes = Array(repeating: [], count: covariateKeys)
        computed = Array(repeating: 0, count: group.size)
    }

    static func holder(_ cell: Int, rank: Int) -> Int { cell >= 0 ? rank : -cell - 1 }

    /// The received cells, as rows of a matrix over the model's genes.
    var received: CSRMatrix { CSRMatrix(uncheckedRows: indptr.count - 1, cols: genes, indptr: indptr, indices: indices, values: values) }

    /// Assigns the global minibatch `cells` (this process's cells as indices into `data`, the
    /// others' as -(holder + 1)) and exchanges the counts of the cells that move.
    func split(_ cells: ArraySlice<Int>, data: TrainingData) {
        let size = group.size, rank = group.rank, total = cells.count
        let quota = { (r: Int) in total / size + (r < total % size ? 1 : 0) }
        computer.removeAll(keepingCapacity: true)
        for r in 0..<size { computed[r] = 0 }
        for cell in cells {
            let h = Self.holder(cell, rank: rank)
            if computed[h] < quota(h) {
                computed[h] += 1
                computer.append(h)
            } else {
                computer.append(-1)
            }
        }
        var next = 0
        for p in computer.indices where computer[p] < 0 {
            while computed[next] >= quota(next) { next += 1 }
            computer[p] = next
            computed[next] += 1
        }
        kept.removeAll(keepingCapacity: true)
        positions.removeAll(keepingCapacity: true)
        for (p, cell) in cells.enumerated() where cell >= 0 && computer[p] == rank {
            kept.append(cell)
            positions.append(p)
        }
        send(cells, data: data)
        receive(cells)
        orderRows()
    }

    /// To each process, in rank order, the cells this one holds that it computes: per cell its
    /// codes, its number of non-zeros, their genes and their counts.
    private func send(_ cells: ArraySlice<Int>, data: TrainingData) {
        let rank = group.rank, indptr = data.counts.indptr, indices = data.counts.indices, values = data.counts.values
        for destination in 0..<group.size where destination != rank {
            bytes.removeAll(keepingCapacity: true)
            for (p, cell) in cells.enumerated() where cell >= 0 && computer[p] == destination {
                let row = indptr[cell]..<indptr[cell + 1]
                for key in 0..<keys { Self.append(data.categoryCodes[key][cell], to: &bytes) }
                Self.append(Int32(row.count), to: &bytes)
                indices[row].withUnsafeBytes { bytes.append(contentsOf: $0) }
                values[row].withUnsafeBytes { bytes.append(contentsOf: $0) }
            }
            if !bytes.isEmpty { group.send(bytes, to: destination) }
        }
    }

    /// From each process, in rank order, the cells it holds that this one computes.
    private func receive(_ cells: ArraySlice<Int>) {
        let rank = group.rank
        indptr.removeAll(keepingCapacity: true)
        indptr.append(0)
        indices.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        for key in 0..<keys { codes[key].removeAll(keepingCapacity: true) }
        for source in 0..<group.size where source != rank {
            let first = positions.count
            for (p, cell) in cells.enumerated() where computer[p] == rank && Self.holder(cell, rank: rank) == source { positions.append(p) }
            guard positions.count > first else { continue }
            group.receive(from: source, into: &bytes)
            var offset = 0
            bytes.withUnsafeBytes { b in
                for _ in first..<positions.count {
                    for key in 0..<keys { codes[key].append(b.loadUnaligned(fromByteOffset: offset + 4 * key, as: Int32.self)) }
                    offset += 4 * keys
                    let n = Int(b.loadUnaligned(fromByteOffset: offset, as: Int32.self))
                    offset += 4
                    for k in 0..<n { indices.append(b.loadUnaligned(fromByteOffset: offset + 4 * k, as: Int32.self)) }
                    offset += 4 * n
                    for k in 0..<n { values.append(b.loadUnaligned(fromByteOffset: offset + 4 * k, as: Float.self)) }
                    offset += 4 * n
                    indptr.append(indices.count)
                }
            }
            precondition(offset == bytes.count, "process \(source) sent \(bytes.count) bytes for its cells, \(offset) expected")
        }
    }

    /// The rows by ascending position (insertion sort: a few short ascending runs).
    private func orderRows() {
        rowsByPosition.removeAll(keepingCapacity: true)
        guard positions.count > kept.count else { return }
        for row in positions.indices {
            var i = rowsByPosition.count
            rowsByPosition.append(row)
            while i > 0, positions[rowsByPosition[i - 1]] > positions[row] {
                rowsByPosition[i] = rowsByPosition[i - 1]
                i -= 1
            }
            rowsByPosition[i] = row
        }
    }

    private static func append(_ value: Int32, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) }
    }
}
