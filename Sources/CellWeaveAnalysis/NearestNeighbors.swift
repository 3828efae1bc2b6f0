import CellWeaveCore

/// The k nearest neighbours of every cell in an embedding (Euclidean), the cell itself first, as
/// scanpy's neighbors counts them (n_neighbors includes the cell). Exact: distances come from
/// BLAS products in blocks, each part of the cells on its own thread; ties go to the lower index,
/// so the result depends on nothing but the embedding and k.
public struct NearestNeighbors: Sendable {
    public let cells: Int
    /// Neighbours per cell, the cell itself included.
    public let k: Int
    /// cells x k, row-major: the cell, then its neighbours by increasing distance.
    public let indices: [Int32]
    /// cells x k: the Euclidean distances, 0 first.
    public let distances: [Double]

    public init(cells: Int, k: Int, indices: [Int32], distances: [Double]) {
        precondition(indices.count == cells * k && distances.count == cells * k)
        self.cells = cells
        self.k = k
        self.indices = indices
        self.distances = distances
    }

    public static func exact(_ embedding: DenseMatrix, k requested: Int, threads: Int = 1) -> NearestNeighbors {
        let n = embedding.rows, k = min(requested, n)
        let blocks = SquaredDistanceBlocks(embedding)
        var indices = [Int32](repeating: 0, count: n * k), distances = [Double](repeating: 0, count: n * k)
        let parts = max(1, min(threads, n / 64 + 1))
        indices.withUnsafeMutableBufferPointer { pi in
            distances.withUnsafeMutableBufferPointer { pd in
                let pi = pi, pd = pd
                ParallelLoop.run(parts: parts) { p in
                    var best: [(d: Double, j: Int)] = []
                    best.reserveCapacity(k)
                    blocks.forEachBlock(in: ParallelLoop.range(p, of: parts, n)) { start, rows, squared in
                        for r in 0..<rows {
                            let i = start + r
                            best.removeAll(keepingCapacity: true)
                            for j in 0..<n where j != i {
                                let d = squared[r * n + j]
                                if best.count == k - 1 {
                                    guard let last = best.last, d < last.d else { continue }
                                    best.removeLast()
                                }
                                // Insert keeping (distance, index) order: ties stay by index as j grows.
                                var at = best.count
                                while at > 0 && best[at - 1].d > d { at -= 1 }
                                best.insert((d, j), at: at)
                            }
                            pi[i * k] = Int32(i)
                            pd[i * k] = 0
                            for (m, b) in best.enumerated() {
                                pi[i * k + 1 + m] = Int32(b.j)
                                pd[i * k + 1 + m] = blocks.distance(i, b.j)
                            }
                        }
                    }
                }
            }
        }
        return NearestNeighbors(cells: n, k: k, indices: indices, distances: distances)
    }

    /// The first `k` neighbours of every cell (itself included), as scib's subset_neighbors.
    public func first(_ k: Int) -> NearestNeighbors {
        let k = min(k, self.k)
        var idx = [Int32](), dist = [Double]()
        idx.reserveCapacity(cells * k)
        dist.reserveCapacity(cells * k)
        for i in 0..<cells {
            idx += indices[(i * self.k)..<(i * self.k + k)]
            dist += distances[(i * self.k)..<(i * self.k + k)]
        }
        return NearestNeighbors(cells: cells, k: k, indices: idx, distances: dist)
    }

    /// The neighbours of cell i (itself first).
    public func neighbors(of i: Int) -> ArraySlice<Int32> { indices[(i * k)..<((i + 1) * k)] }

    /// scanpy's obsp "distances": per cell its k - 1 neighbours (itself left out), columns sorted.
    public func distanceMatrix() -> CSRMatrix {
        var rows: [Int32] = [], cols: [Int32] = [], values: [Float] = []
        for i in 0..<cells {
            for m in 1..<k {
                rows.append(Int32(i)); cols.append(indices[i * k + m]); values.append(Float(distances[i * k + m]))
            }
        }
        return try! CSRMatrix(rows: cells, cols: cells, rowIndices: rows, colIndices: cols, values: values)
    }
}
