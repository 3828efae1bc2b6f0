import CellWeaveCore

/// Approximate k nearest neighbours for embeddings too large for the exact search: NN-descent (Dong,
/// Moses & Li 2011), as pynndescent runs it. Random-projection trees give each cell a first set of
/// candidates (cells that fall in the same leaf); then, round after round, the neighbours of a
/// cell's neighbours (and the cells that list it) are tried as its neighbours, until fewer than
/// `delta` k n lists change. One thread and a seeded generator: a seed gives one result.
public struct NearestNeighborDescent: Sendable {
    public var seed: UInt64 = 0
    public var trees = 8
    public var leafSize = 30
    public var maxRounds = 12
    public var delta = 0.001

    public init() {}

    /// Per cell the cell itself, then k - 1 neighbours by increasing distance, as NearestNeighbors.exact.
    public func search(_ embedding: DenseMatrix, k requested: Int) -> NearestNeighbors {
        let n = embedding.rows, d = embedding.cols, k = min(requested, n)
        let x = embedding.values
        var rng = SeededGenerator(seed: seed)
        func distance2(_ i: Int, _ j: Int) -> Float {
            var s: Float = 0
            for c in 0..<d { let v = x[i * d + c] - x[j * d + c]; s += v * v }
            return s
        }
        // Per cell a bounded list of (squared distance, cell, new?) sorted by distance; the cell itself is left out.
        let m = k - 1
        var lists = [[(d: Float, j: Int32, new: Bool)]](repeating: [], count: n)
        @discardableResult
        func offer(_ i: Int, _ j: Int, _ dist: Float) -> Bool {
            guard i != j else { return false }
            return Self.insert(&lists[i], Int32(j), dist, capacity: m)
        }
        let leaf = max(leafSize, 2 * k)
        // Random-projection trees: split by the hyperplane halfway between two random cells.
        for _ in 0..<trees {
            var stack = [Array(0..<n)]
            while let cells = stack.popLast() {
                if cells.count <= leaf {
                    for a in cells.indices { for b in cells.indices where a != b { offer(cells[a], cells[b], distance2(cells[a], cells[b])) } }
                    continue
                }
                let p = cells[Int(rng.next() % UInt64(cells.count))], q = cells[Int(rng.next() % UInt64(cells.count))]
                var normal = [Float](repeating: 0, count: d), offset: Float = 0
                for c in 0..<d {
                    normal[c] = x[p * d + c] - x[q * d + c]
                    offset += normal[c] * (x[p * d + c] + x[q * d + c]) / 2
                }
                var left: [Int] = [], right: [Int] = []
                for i in cells {
                    var s: Float = -offset
                    for c in 0..<d { s += normal[c] * x[i * d + c] }
                    if s > 0 || (s == 0 && rng.next() & 1 == 0) { left.append(i) } else { right.append(i) }
                }
                // Identical points (or p == q) give no split: halve at random instead.
                if left.isEmpty || right.isEmpty {
                    let shuffled = cells.shuffled(using: &rng)
                    left = Array(shuffled[..<(cells.count / 2)])
                    right = Array(shuffled[(cells.count / 2)...])
                }
                stack.append(left)
                stack.append(right)
            }
        }
        // NN-descent rounds.
        for _ in 0..<maxRounds {
            var fresh = [[Int]](repeating: [], count: n), old = [[Int]](repeating: [], count: n)
            for i in 0..<n {
                for e in lists[i].indices {
                    let j = Int(lists[i][e].j)
                    if lists[i][e].new {
                        fresh[i].append(j); fresh[j].append(i)
                        lists[i][e].new = false
                    } else {
                        old[i].append(j); old[j].append(i)
                    }
                }
            }
            var updates = 0
            for i in 0..<n {
                // Reverse lists can grow long around hubs: keep at most 2k of each, chosen at random.
                var f = Array(Set(fresh[i])).sorted(), o = Array(Set(old[i])).sorted()
                if f.count > 2 * m { f.shuffle(using: &rng); f.removeLast(f.count - 2 * m) }
                if o.count > 2 * m { o.shuffle(using: &rng); o.removeLast(o.count - 2 * m) }
                for a in f.indices {
                    for b in (a + 1)..<f.count {
                        let dist = distance2(f[a], f[b])
                        if offer(f[a], f[b], dist) { updates += 1 }
                        if offer(f[b], f[a], dist) { updates += 1 }
                    }
                    for v in o where v != f[a] {
                        let dist = distance2(f[a], v)
                        if offer(f[a], v, dist) { updates += 1 }
                        if offer(v, f[a], dist) { updates += 1 }
                    }
                }
            }
            if Double(updates) < delta * Double(n * m) { break }
        }
        var indices = [Int32](repeating: 0, count: n * k), distances = [Double](repeating: 0, count: n * k)
        for i in 0..<n {
            // Every tree leaf holds more than k cells, so every list is full.
            precondition(lists[i].count == m, "NN-descent left cell \(i) with \(lists[i].count) of \(m) neighbours")
            indices[i * k] = Int32(i)
            for (e, entry) in lists[i].enumerated() {
                indices[i * k + 1 + e] = entry.j
                var s = 0.0
                for c in 0..<d { let v = Double(x[i * d + c]) - Double(x[Int(entry.j) * d + c]); s += v * v }
                distances[i * k + 1 + e] = s.squareRoot()
            }
        }
        return NearestNeighbors(cells: n, k: k, indices: indices, distances: distances)
    }

    /// Inserts j at its place in a list sorted by (distance, index), bounded to `capacity`; false if
    /// it is already there or too far.
    static func insert(_ list: inout [(d: Float, j: Int32, new: Bool)], _ j: Int32, _ dist: Float, capacity: Int) -> Bool {
        if list.count == capacity, let last = list.last, dist >= last.d { return false }
        if list.contains(where: { $0.j == j }) { return false }
        var at = list.count
        while at > 0 && (list[at - 1].d > dist || (list[at - 1].d == dist && list[at - 1].j > j)) { at -= 1 }
        list.insert((dist, j, true), at: at)
        if list.count > capacity { list.removeLast() }
        return true
    }
}
