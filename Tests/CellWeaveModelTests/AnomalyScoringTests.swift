import CellWeaveCore
@testable import CellWeaveModel
import CellWeaveSimulation
import Testing

/// The scoring rules without the CLI: which cells calibrate, when a small reference is refused
/// and when it only warns, and how p-values, q-values and flags follow from the scores.
@Suite struct AnomalyScoringTests {
    let adata: AnnData
    let manifest: ModelManifest

    init() throws {
        var simulator = CountSimulator()
        (simulator.cells, simulator.genes, simulator.batches, simulator.cellTypes) = (900, 300, 2, 3)
        adata = try simulator.simulate(seed: 5)
        let configuration = ModelConfiguration(genes: adata.nVars, categoryCounts: [2])
        manifest = ModelManifest(version: "test", configuration: configuration, options: TrainingOptions(maxEpochs: 1),
                                 geneIDs: adata.varTable.index, geneNames: adata.varTable.index,
                                 covariates: [.init(key: "batch", categories: ["batch0", "batch1"])], countsSource: "X",
                                 trainingFile: "train.h5ad", trainingCells: adata.nObs, validationCells: [])
    }

    func inputs(_ data: AnnData) throws -> ModelInputs {
        try ModelInputs(data, file: "test.h5ad", manifest: manifest, source: "X")
    }

    /// One batch calibrates: each query cell's p-value is its conformal p-value among that batch's
    /// scores, q-values are Benjamini-Hochberg's, flags are q <= alpha.
    @Test func aBatchOfTheQueryCalibrates() throws {
        let scoring = try AnomalyScoring(query: try inputs(adata), reference: .batch("batch0", queryFile: "test.h5ad"), modelCategoryCounts: [2])
        let codes = scoring.set.data.categoryCodes[0]
        #expect(scoring.set.referenceRows == codes.indices.filter { codes[$0] == 0 } && scoring.set.queryRows.count == adata.nObs)
        var settings = AnomalyScoring.Settings()
        (settings.method, settings.alpha) = (.analytic, 0.2)
        let result = try scoring.run(model: nil, settings: settings)
        let reference = scoring.set.referenceRows.map { result.queryScores[$0].rna.score }
        for i in stride(from: 0, to: adata.nObs, by: 37) {
            let s = result.queryScores[i].rna.score
            #expect(result.calibrated[i].pValue == Double(1 + reference.filter { $0 >= s }.count) / Double(reference.count + 1))
        }
        #expect(result.qValues == AnomalyCalibration.benjaminiHochberg(result.calibrated.map(\.pValue)))
        #expect(result.flags == result.qValues.map { $0 <= 0.2 } && result.referenceCount.rna == reference.count)
        #expect(result.notes[0].hasPrefix("\(result.flags.filter { $0 }.count) of \(adata.nObs) cells flagged at q <= 0.2 against batch batch0 of test.h5ad"))
        #expect(throws: AnomalyScoring.ReferenceError.self) {
            try AnomalyScoring(query: try inputs(adata), reference: .batch("batch7", queryFile: "test.h5ad"), modelCategoryCounts: [2])
        }
    }

    @Test func fewHeldOutCellsWarnButANamedSmallReferenceIsRefused() throws {
        let few = try adata.selecting(cells: Array(0..<8))
        var settings = AnomalyScoring.Settings()
        settings.method = .analytic
        let heldOut = try AnomalyScoring(query: try inputs(adata), reference: .heldOut(try inputs(few), obsNames: few.obs.index,
                                                                                          heldOut: few.obs.index, file: "train.h5ad"),
                                         modelCategoryCounts: [2])
        let result = try heldOut.run(model: nil, settings: settings)
        #expect(heldOut.set.referenceRows.count == 8 && result.referenceCount.rna == 8)
        #expect(!result.flags.contains(true) && result.warnings.first?.contains("no cell can be flagged at q <= 0.05") == true)
        let named = try AnomalyScoring(query: try inputs(adata), reference: .file(try inputs(few), file: "few.h5ad"), modelCategoryCounts: [2])
        #expect(throws: AnomalyCalibration.CalibrationError.tooFewReferenceCells(found: 8, needed: 20, alpha: 0.05)) {
            try named.run(model: nil, settings: settings)
        }
    }
}
