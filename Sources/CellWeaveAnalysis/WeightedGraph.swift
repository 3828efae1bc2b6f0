import CellWeaveCore

/// An undirected weighted graph in adjacency-list (CSR) form for community detection: each edge
/// appears from both ends; self-loops are kept apart, since moving a node never changes them.
/// Node weights are the (original) weighted degrees, which aggregation sums.
public struct WeightedGraph: Sendable {
    public let nodes: Int
    let indptr: [Int]
    let neighbors: [Int]
    let weights: [Double]
    let nodeWeight: [Double]
    /// Sum of all node weights: 2m.
    let totalWeight: Double

    init(indptr: [Int], neighbors: [Int], weights: [Double], nodeWeight: [Double]) {
        nodes = nodeWeight.count
        self.indptr = indptr
        self.neighbors = neighbors
        self.weights = weights
        self.nodeWeight = nodeWeight
        totalWeight = nodeWeight.reduce(0, +)
    }

    /// From a symmetric adjacency matrix such as obsp connectivities; the diagonal counts in the degree.
    public init(symmetric a: CSRMatrix) {
        var indptr = [0], neighbors: [Int] = [], weights: [Double] = [], degree = [Double](repeating: 0, count: a.rows)
        for i in 0..<a.rows {
            for k in a.indptr[i]..<a.indptr[i + 1] {
                let j = Int(a.indices[k]), w = Double(a.values[k])
                degree[i] += w
                if j != i && w != 0 { neighbors.append(j); weights.append(w) }
            }
            indptr.append(neighbors.count)
        }
        self.init(indptr: indptr, neighbors: neighbors, weights: weights, nodeWeight: degree)
    }

    /// The graph of `groups` (codes 0..<count): one node per group, edge weights summed, node weights summed.
    func aggregated(by groups: [Int], count: Int) -> WeightedGraph {
        var rows = [[Int: Double]](repeating: [:], count: count), nodeWeight = [Double](repeating: 0, count: count)
        for v in 0..<nodes {
            let g = groups[v]
            nodeWeight[g] += self.nodeWeight[v]
            for k in indptr[v]..<indptr[v + 1] where groups[neighbors[k]] != g {
                rows[g][groups[neighbors[k]], default: 0] += weights[k]
            }
        }
        var indptr = [0], neighbors: [Int] = [], weights: [Double] = []
        for row in rows {
            for (j, w) in row.sorted(by: { $0.key < $1.key }) { neighbors.append(j); weights.append(w) }
            indptr.append(neighbors.count)
        }
        return WeightedGraph(indptr: indptr, neighbors: neighbors, weights: weights, nodeWeight: nodeWeight)
    }

    /// Modularity with resolution gamma of a partition: sum over communities of
    /// (internal weight / 2m - gamma (K_c / 2m)^2), internal weight counting both directions.
    public func modularity(_ communities: [Int], resolution gamma: Double = 1) -> Double {
        let count = (communities.max() ?? -1) + 1
        var inside = [Double](repeating: 0, count: count), total = [Double](repeating: 0, count: count)
        for v in 0..<nodes {
            let c = communities[v]
            total[c] += nodeWeight[v]
            // The degree's part that no edge to another node accounts for is a self-loop: internal.
            var selfLoop = nodeWeight[v]
            for k in indptr[v]..<indptr[v + 1] {
                selfLoop -= weights[k]
                if communities[neighbors[k]] == c { inside[c] += weights[k] }
            }
            inside[c] += selfLoop
        }
        let m2 = totalWeight
        return zip(inside, total).reduce(0.0) { $0 + $1.0 / m2 - gamma * ($1.1 / m2) * ($1.1 / m2) }
    }
}
