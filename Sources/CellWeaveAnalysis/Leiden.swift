import CellWeaveCore

/// Leiden community detection (Traag, Waltman & van Eck 2019) maximising modularity with a
/// resolution (the RB configuration model scanpy's leiden optimises): fast local moving of nodes,
/// refinement of each community into well-connected sub-communities (so no community comes out
/// disconnected), aggregation of the refined partition, repeated until nothing moves. The
/// refinement merges greedily (the theta -> 0 limit of its randomised choice). As leidenalg with
/// n_iterations -1, the whole algorithm runs again from its own result while modularity improves.
/// Node orders come from a seeded generator, so a seed gives one result.
public struct Leiden: Sendable {
    public var resolution = 1.0
    public var seed: UInt64 = 0

    public init() {}

    /// Community per node, numbered by decreasing size (ties by first node), as scanpy numbers them.
    public func cluster(_ base: WeightedGraph) -> [Int] {
        var rng = SeededGenerator(seed: seed)
        var labels = iteration(base, from: Array(0..<base.nodes), &rng)
        var quality = base.modularity(labels, resolution: resolution)
        while true {
            let next = iteration(base, from: labels, &rng), q = base.modularity(next, resolution: resolution)
            guard q > quality else { break }
            (labels, quality) = (next, q)
        }
        return labels
    }

    /// One run of the algorithm from a partition of the base graph.
    private func iteration(_ base: WeightedGraph, from initial: [Int], _ rng: inout SeededGenerator) -> [Int] {
        var graph = base
        var membership = Array(0..<base.nodes)  // base node -> node of the current graph
        var partition = initial                 // current graph's node -> community
        // Each round aggregates to fewer nodes, so this ends.
        while true {
            moveNodes(graph, &partition, &rng)
            if Self.renumber(&partition) == graph.nodes { break }
            var refined = refine(graph, partition, &rng)
            let count = Self.renumber(&refined)
            if count == graph.nodes { break }
            var next = [Int](repeating: 0, count: count)
            for v in 0..<graph.nodes { next[refined[v]] = partition[v] }
            for i in membership.indices { membership[i] = refined[membership[i]] }
            graph = graph.aggregated(by: refined, count: count)
            partition = next
        }
        var labels = membership.map { partition[$0] }
        let count = Self.renumber(&labels)
        var sizes = [Int](repeating: 0, count: count), first = [Int](repeating: .max, count: count)
        for (i, c) in labels.enumerated() { sizes[c] += 1; first[c] = min(first[c], i) }
        let order = (0..<count).sorted { sizes[$0] != sizes[$1] ? sizes[$0] > sizes[$1] : first[$0] < first[$1] }
        var rank = [Int](repeating: 0, count: count)
        for (r, c) in order.enumerated() { rank[c] = r }
        return labels.map { rank[$0] }
    }

    /// Codes 0..<count in order of first appearance; returns count.
    static func renumber(_ codes: inout [Int]) -> Int {
        var map = [Int: Int]()
        for i in codes.indices {
            if let c = map[codes[i]] { codes[i] = c } else { let c = map.count; map[codes[i]] = c; codes[i] = c }
        }
        return map.count
    }

    /// The gain, up to the constant 1/m, of node weight k joining a community of total `total`
    /// to which it has edge weight w.
    private func gain(_ w: Double, _ k: Double, _ total: Double, _ m2: Double) -> Double { w - resolution * k * total / m2 }

    /// Fast local moving: nodes from a queue in random order move to the neighbouring community of
    /// largest gain; a move puts the node's neighbours outside its new community back in the queue.
    private func moveNodes(_ g: WeightedGraph, _ partition: inout [Int], _ rng: inout SeededGenerator) {
        let n = g.nodes
        var total = [Double](repeating: 0, count: n)
        for v in 0..<n { total[partition[v]] += g.nodeWeight[v] }
        var queue = Array(0..<n)
        queue.shuffle(using: &rng)
        var head = 0, queued = [Bool](repeating: true, count: n)
        var toCommunity = [Double](repeating: 0, count: n), touched: [Int] = []
        while head < queue.count {
            let v = queue[head]
            head += 1
            queued[v] = false
            let own = partition[v], k = g.nodeWeight[v]
            for e in g.indptr[v]..<g.indptr[v + 1] {
                let c = partition[g.neighbors[e]]
                if toCommunity[c] == 0 { touched.append(c) }
                toCommunity[c] += g.weights[e]
            }
            total[own] -= k
            var best = own, bestGain = gain(toCommunity[own], k, total[own], g.totalWeight)
            for c in touched where c != own {
                let value = gain(toCommunity[c], k, total[c], g.totalWeight)
                if value > bestGain { best = c; bestGain = value }
            }
            total[best] += k
            for c in touched { toCommunity[c] = 0 }
            touched.removeAll(keepingCapacity: true)
            if best != own {
                partition[v] = best
                for e in g.indptr[v]..<g.indptr[v + 1] {
                    let u = g.neighbors[e]
                    if !queued[u] && partition[u] != best { queued[u] = true; queue.append(u) }
                }
            }
            // Keep the queue's memory bounded: drop the consumed head now and then.
            if head > 4096 && head * 2 > queue.count { queue.removeFirst(head); head = 0 }
        }
    }

    /// Refinement: within each community, every node starts alone; in random order, a node still
    /// alone and well connected to its community joins the well-connected sub-community (of the
    /// same community) that gains most, if any gains.
    private func refine(_ g: WeightedGraph, _ partition: [Int], _ rng: inout SeededGenerator) -> [Int] {
        let n = g.nodes, m2 = g.totalWeight
        var communityTotal = [Double](repeating: 0, count: n)
        for v in 0..<n { communityTotal[partition[v]] += g.nodeWeight[v] }
        var refined = Array(0..<n), refinedTotal = g.nodeWeight, alone = [Bool](repeating: true, count: n)
        // Edge weight from each refined sub-community to the rest of its community.
        var outward = [Double](repeating: 0, count: n)
        for v in 0..<n {
            for e in g.indptr[v]..<g.indptr[v + 1] where partition[g.neighbors[e]] == partition[v] { outward[v] += g.weights[e] }
        }
        var order = Array(0..<n)
        order.shuffle(using: &rng)
        var toRefined = [Double](repeating: 0, count: n), touched: [Int] = []
        for v in order where alone[v] {
            let c = partition[v], k = g.nodeWeight[v]
            guard outward[v] >= resolution * k * (communityTotal[c] - k) / m2 else { continue }
            for e in g.indptr[v]..<g.indptr[v + 1] {
                let u = g.neighbors[e]
                guard partition[u] == c else { continue }
                let r = refined[u]
                if toRefined[r] == 0 { touched.append(r) }
                toRefined[r] += g.weights[e]
            }
            var best = refined[v], bestGain = 0.0
            for r in touched where r != refined[v] {
                let size = refinedTotal[r]
                guard outward[r] >= resolution * size * (communityTotal[c] - size) / m2 else { continue }
                let value = gain(toRefined[r], k, size, m2)
                if value > bestGain { best = r; bestGain = value }
            }
            if best != refined[v] {
                let own = refined[v]
                outward[best] += outward[own] - 2 * toRefined[best]
                refinedTotal[best] += k
                refinedTotal[own] = 0
                refined[v] = best
                alone[v] = false
                alone[best] = false  // a sub-community keeps the number of the node it started from
            }
            for r in touched { toRefined[r] = 0 }
            touched.removeAll(keepingCapacity: true)
        }
        return refined
    }
}
