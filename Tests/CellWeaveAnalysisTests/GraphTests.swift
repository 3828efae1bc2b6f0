@testable import CellWeaveAnalysis
import CellWeaveCore
import Foundation
import Testing

@Suite struct GraphTests {
    /// Gaussian groups around spread-out centres: (embedding, group of each cell).
    static func groups(_ sizes: [Int], dims: Int = 5, spread: Double = 6, seed: UInt64 = 1) -> (DenseMatrix, [Int]) {
        var rng = SeededGenerator(seed: seed)
        let centers = sizes.map { _ in (0..<dims).map { _ in spread * rng.nextGaussian() } }
        var values: [Float] = [], labels: [Int] = []
        for (g, n) in sizes.enumerated() {
            for _ in 0..<n {
                for k in 0..<dims { values.append(Float(centers[g][k] + rng.nextGaussian())) }
                labels.append(g)
            }
        }
        return (try! DenseMatrix(rows: labels.count, cols: dims, values: values), labels)
    }

    @Test func exactNeighborsEqualBruteForceAndDoNotDependOnThreads() {
        let (x, _) = Self.groups([150, 90, 60])
        let nn = NearestNeighbors.exact(x, k: 10, threads: 1)
        for i in stride(from: 0, to: x.rows, by: 7) {
            let d = (0..<x.rows).map { j in ((0..<x.cols).reduce(0.0) { $0 + pow(Double(x[i, $1]) - Double(x[j, $1]), 2) }).squareRoot() }
            let expected = (0..<x.rows).filter { $0 != i }.sorted { d[$0] != d[$1] ? d[$0] < d[$1] : $0 < $1 }.prefix(9)
            #expect(Array(nn.neighbors(of: i)) == [Int32(i)] + expected.map(Int32.init))
            for (m, j) in expected.enumerated() { #expect(abs(nn.distances[i * 10 + 1 + m] - d[j]) < 1e-9) }
        }
        let threaded = NearestNeighbors.exact(x, k: 10, threads: 3)
        #expect(threaded.indices == nn.indices && threaded.distances == nn.distances)
    }

    @Test func nnDescentFindsNearlyAllExactNeighboursReproducibly() {
        let (x, _) = Self.groups([1200, 900, 600, 300], dims: 10, spread: 2)
        let exact = NearestNeighbors.exact(x, k: 15)
        var descent = NearestNeighborDescent()
        descent.seed = 3
        let approximate = descent.search(x, k: 15)
        var found = 0
        for i in 0..<x.rows {
            let truth = Set(exact.neighbors(of: i).dropFirst())
            let row = approximate.neighbors(of: i)
            #expect(row.first == Int32(i))
            found += row.dropFirst().filter { truth.contains($0) }.count
            let d = approximate.distances[(i * 15)..<((i + 1) * 15)]
            #expect(zip(d, d.dropFirst()).allSatisfy { $0 <= $1 })
        }
        let recall = Double(found) / Double(x.rows * 14)
        #expect(recall > 0.97, "recall \(recall)")
        let again = descent.search(x, k: 15)
        #expect(again.indices == approximate.indices && again.distances == approximate.distances)
    }

    @Test func connectivitiesAreSymmetricFuzzyWeights() {
        let (x, _) = Self.groups([120, 80])
        let c = UMAPConnectivities.compute(NearestNeighbors.exact(x, k: 15))
        var edges = 0
        for i in 0..<c.rows {
            for k in c.indptr[i]..<c.indptr[i + 1] {
                let j = Int(c.indices[k]), w = c.values[k]
                #expect(j != i && w > 0 && w <= 1)
                #expect(abs(c[j, i] - w) < 1e-7)
                edges += 1
            }
        }
        // Every cell keeps at least its k - 1 directed edges; the union only adds.
        #expect(edges >= c.rows * 14)
    }

    @Test func leidenClustersArePureSeededAndFollowTheResolution() {
        let (x, labels) = Self.groups([200, 150, 100, 50], spread: 5)
        let graph = WeightedGraph(symmetric: UMAPConnectivities.compute(NearestNeighbors.exact(x, k: 15)))
        let clusters = Leiden().cluster(graph)
        #expect(clusters == Leiden().cluster(graph))
        // Numbered by decreasing size.
        var sizes = [Int](repeating: 0, count: (clusters.max() ?? 0) + 1)
        for c in clusters { sizes[c] += 1 }
        #expect(sizes == sizes.sorted(by: >))
        // Modularity splits large round groups, but never mixes two: each cluster lies in one group.
        for c in sizes.indices {
            let members = labels.indices.filter { clusters[$0] == c }.map { labels[$0] }
            let majority = Set(members).map { g in members.filter { $0 == g }.count }.max() ?? 0
            #expect(Double(majority) / Double(members.count) > 0.98)
        }
        #expect(graph.modularity(clusters) > graph.modularity(labels) - 1e-9)
        // Resolution moves the scale: higher splits further, lower merges.
        var leiden = Leiden()
        leiden.resolution = 3
        #expect(Set(leiden.cluster(graph)).count > sizes.count)
        leiden.resolution = 0.1
        #expect(Set(leiden.cluster(graph)).count < sizes.count)
    }
}
