@testable import CellWeaveAnalysis
import CellWeaveCore
import Foundation
import Testing

@Suite struct IntegrationMetricsTests {
    struct Golden: Decodable {
        let embedding: [Float], dims: Int, batches: [Int], labels: [Int]
        let ilisi: Double, clisi: Double, silhouette_label: Double, silhouette_batch: Double, graph_connectivity: Double
        let nmi_leiden: Double, ari_leiden: Double
    }

    /// From scib-metrics (reference/golden/make_integration_golden.py).
    let golden: Golden = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("reference/golden/integration_scib.json")
        return try! JSONDecoder().decode(Golden.self, from: Data(contentsOf: url))
    }()

    @Test func metricsAgreeWithScibMetrics() throws {
        let x = try DenseMatrix(rows: golden.labels.count, cols: golden.dims, values: golden.embedding)
        let m = try IntegrationMetrics.compute(x, batches: golden.batches, labels: golden.labels, threads: 2)
        // scib-metrics runs LISI's bisection in float32 (jax): agreement to 1e-4.
        #expect(abs(m.iLISI - golden.ilisi) < 1e-4)
        #expect(abs(m.cLISI! - golden.clisi) < 1e-4)
        // Same formulas in float64 (scib-metrics' silhouettes accumulate in float32).
        #expect(abs(m.labelSilhouette! - golden.silhouette_label) < 1e-5)
        #expect(abs(m.batchSilhouette! - golden.silhouette_batch) < 1e-5)
        #expect(abs(m.graphConnectivity! - golden.graph_connectivity) < 1e-12)
        // Another Leiden (igraph's there): the clusters differ, the agreement with labels hardly.
        #expect(abs(m.nmi! - golden.nmi_leiden) < 0.03)
        #expect(abs(m.ari! - golden.ari_leiden) < 0.03)
        #expect(m == (try IntegrationMetrics.compute(x, batches: golden.batches, labels: golden.labels, threads: 1)))
    }

    /// Below 91 cells the neighbourhoods shrink to every other cell and the scores still tell mixed
    /// batches from separated ones.
    @Test func smallDataSetsUseEveryOtherCell() throws {
        let n = 40
        func cells(offset: Float) throws -> DenseMatrix {
            try DenseMatrix(rows: n, cols: 2, values: (0..<n).flatMap { i -> [Float] in
                let angle = Float(i) * 2.4, radius = Float(i % 7) / 7
                return [radius * cos(angle) + (i % 2 == 0 ? 0 : offset), radius * sin(angle)]
            })
        }
        let batches = (0..<n).map { $0 % 2 }, labels = (0..<n).map { $0 < n / 2 ? 0 : 1 }
        let mixed = try IntegrationMetrics.compute(try cells(offset: 0), batches: batches, labels: labels)
        let apart = try IntegrationMetrics.compute(try cells(offset: 50), batches: batches, labels: labels)
        #expect(mixed.lisiNeighbors == n - 1 && apart.lisiNeighbors == n - 1)
        #expect(mixed.iLISI > 0.8 && apart.iLISI < 0.05, "iLISI mixed \(mixed.iLISI), apart \(apart.iLISI)")
        #expect(mixed.total!.isFinite && apart.graphConnectivity!.isFinite)
    }

    @Test func clusterAgreementEqualsScikitLearnsDefinitions() {
        // sklearn: normalized_mutual_info_score([0,0,1,1,2,2],[0,0,1,1,1,1]) and adjusted_rand_score.
        let a = [0, 0, 1, 1, 2, 2], b = [0, 0, 1, 1, 1, 1]
        #expect(abs(ClusterAgreement.normalizedMutualInformation(a, b) - 0.7336804366512113) < 1e-12)
        #expect(abs(ClusterAgreement.adjustedRandIndex(a, b) - 0.4444444444444444) < 1e-12)
        #expect(ClusterAgreement.normalizedMutualInformation(a, a.map { $0 + 5 }) == 1)
        #expect(ClusterAgreement.adjustedRandIndex([1, 1, 1], [0, 0, 0]) == 1)
    }

    @Test func strongComponentsFollowEdgeDirection() {
        // 0 -> 1 -> 2 -> 0 is one component; 3 -> 0 alone is not part of it.
        let c = GraphConnectivity.stronglyConnectedComponents([[1], [2], [0], [0]])
        #expect(c[0] == c[1] && c[1] == c[2] && c[3] != c[0])
    }
}
