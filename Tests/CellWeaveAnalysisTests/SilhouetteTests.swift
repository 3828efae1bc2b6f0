import CellWeaveAnalysis
import CellWeaveCore
import Foundation
import Testing

@Suite struct SilhouetteTests {
    struct Golden: Decodable {
        let embedding: [[Double]]
        let groups: [Int]
        let batches: [Int]
        let silhouette_samples: [Double]
        let silhouette_score: Double
        let batch_silhouette: Double
    }

    /// Values from scikit-learn (reference/golden/make_silhouette_golden.py).
    let golden: Golden = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("reference/golden/silhouette_sklearn.json")
        return try! JSONDecoder().decode(Golden.self, from: Data(contentsOf: url))
    }()

    var embedding: DenseMatrix {
        try! DenseMatrix(rows: golden.embedding.count, cols: golden.embedding[0].count, values: golden.embedding.flatMap { $0.map(Float.init) })
    }

    @Test func samplesAndScoreEqualScikitLearn() {
        let s = Silhouette.samples(embedding, labels: golden.groups)
        for (a, b) in zip(s, golden.silhouette_samples) { #expect(abs(a - b) < 1e-6) }
        #expect(abs(Silhouette.score(embedding, labels: golden.groups) - golden.silhouette_score) < 1e-6)
    }

    @Test func batchSilhouetteEqualsScibDefinition() throws {
        let value = try Silhouette.batchMixing(embedding, batches: golden.batches, cellTypes: golden.groups)
        #expect(abs(value - golden.batch_silhouette) < 1e-6)
    }
}
