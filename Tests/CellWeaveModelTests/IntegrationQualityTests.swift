import CellWeaveAnalysis
import CellWeaveCore
@testable import CellWeaveModel
import CellWeaveSimulation
import Foundation
import Testing

/// On simulated counts with known cell types and a strong batch effect, the trained embedding
/// separates the types and mixes the batches, where log1p counts do not mix them.
@Suite struct IntegrationQualityTests {
    @Test func embeddingSeparatesTypesAndMixesBatches() throws {
        var simulator = CountSimulator()
        simulator.cells = 1200
        simulator.genes = 300
        simulator.batchEffect = 0.8
        let adata = try simulator.simulate(seed: 3)
        let counts = adata.x.toCSR()
        guard let types = adata.obs["cell_type"]?.batchCodes(), let batches = adata.obs["batch"]?.batchCodes() else {
            Issue.record("simulated obs lacks cell_type or batch"); return
        }
        let data = TrainingData(counts: counts, codes: [batches.codes.map(Int32.init)], categoryCounts: [batches.labels.count])
        // cellweave train's defaults: its epochs, warm-up and learning rate, two layers.
        var options = TrainingOptions(maxEpochs: TrainingOptions.defaultMaxEpochs(cells: counts.rows))
        options.threads = 2
        var configuration = ModelConfiguration(genes: counts.cols, categoryCounts: [batches.labels.count])
        configuration.layers = 2
        let trainer = try Trainer(cells: data, configuration: configuration, options: options)
        try trainer.train()
        let latent = LatentInference(model: trainer.model, data: data).posteriorMeans()
        let typeSilhouette = Silhouette.score(latent, labels: types.codes)
        let batchMixing = try Silhouette.batchMixing(latent, batches: batches.codes, cellTypes: types.codes)

        // The uncorrected baseline: log1p counts, what the encoder sees.
        var logCounts = DenseMatrix(rows: counts.rows, cols: counts.cols)
        for i in 0..<counts.rows {
            for k in counts.indptr[i]..<counts.indptr[i + 1] { logCounts.values[i * counts.cols + Int(counts.indices[k])] = log1pf(counts.values[k]) }
        }
        let rawMixing = try Silhouette.batchMixing(logCounts, batches: batches.codes, cellTypes: types.codes)
        #expect(typeSilhouette > 0.25, "cell-type silhouette \(typeSilhouette)")
        #expect(batchMixing > 0.85, "batch mixing \(batchMixing)")
        #expect(batchMixing > rawMixing + 0.1, "batch mixing \(batchMixing) vs \(rawMixing) uncorrected")
    }
}
