/// scib's graph connectivity: for each label, the share of its cells in the largest strongly
/// connected component of the directed kNN graph restricted to that label; the mean over labels.
/// 1 means every cell type forms one connected piece of the graph.
public enum GraphConnectivity {
    public static func score(_ nn: NearestNeighbors, labels: [Int]) -> Double {
        let groups = Set(labels).sorted()
        var shares: [Double] = []
        for g in groups {
            let members = labels.indices.filter { labels[$0] == g }
            var local = [Int: Int]()
            for (m, i) in members.enumerated() { local[i] = m }
            let edges = members.map { i in nn.neighbors(of: i).compactMap { local[Int($0)] } }
            let components = stronglyConnectedComponents(edges)
            var sizes = [Int: Int]()
            for c in components { sizes[c, default: 0] += 1 }
            shares.append(Double(sizes.values.max() ?? 0) / Double(members.count))
        }
        return shares.reduce(0, +) / Double(max(shares.count, 1))
    }

    /// Tarjan's algorithm, iterative: a component number per node.
    static func stronglyConnectedComponents(_ edges: [[Int]]) -> [Int] {
        let n = edges.count
        var index = [Int](repeating: -1, count: n), low = [Int](repeating: 0, count: n)
        var onStack = [Bool](repeating: false, count: n), component = [Int](repeating: -1, count: n)
        var stack: [Int] = [], next = 0, components = 0
        for root in 0..<n where index[root] < 0 {
            var work: [(node: Int, edge: Int)] = [(root, 0)]
            index[root] = next; low[root] = next; next += 1
            stack.append(root); onStack[root] = true
            while let (v, e) = work.last {
                if e < edges[v].count {
                    work[work.count - 1].edge += 1
                    let w = edges[v][e]
                    if index[w] < 0 {
                        index[w] = next; low[w] = next; next += 1
                        stack.append(w); onStack[w] = true
                        work.append((w, 0))
                    } else if onStack[w] {
                        low[v] = min(low[v], index[w])
                    }
                } else {
                    work.removeLast()
                    if let parent = work.last?.node { low[parent] = min(low[parent], low[v]) }
                    if low[v] == index[v] {
                        while let w = stack.popLast() {
                            onStack[w] = false
                            component[w] = components
                            if w == v { break }
                        }
                        components += 1
                    }
                }
            }
        }
        return component
    }
}
