import CellWeaveCore
@testable import CellWeaveModel
import Foundation
import Testing

@Suite struct AnomalyCalibrationTests {
    struct Golden: Decodable {
        struct Moment: Decodable { let mean: Double, theta: Double?, variance: Double }
        let reference: [Double], query: [Double], pvalues: [Double], qvalues: [Double], z: [Double]
        let squaredResidualVariance: [Moment]

        enum CodingKeys: String, CodingKey {
            case reference, query, pvalues, qvalues, z
            case squaredResidualVariance = "squared_residual_variance"
        }
    }

    /// From scipy (reference/golden/make_calibration_golden.py).
    let golden: Golden = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("reference/golden/calibration_scipy.json")
        return try! JSONDecoder().decode(Golden.self, from: Data(contentsOf: url))
    }()

    @Test func pValuesZAndQValuesEqualScipy() throws {
        let c = try AnomalyCalibration(reference: golden.reference, alpha: 0.05)
        let p = golden.query.map(c.pValue)
        #expect(p == golden.pvalues)
        for (a, b) in zip(golden.query.map(c.z), golden.z) { #expect(abs(a - b) < 1e-12) }
        for (a, b) in zip(AnomalyCalibration.benjaminiHochberg(p), golden.qvalues) { #expect(abs(a - b) < 1e-12) }
    }

    @Test func squaredResidualWeightsAreTheInverseVarianceFromScipy() {
        for m in golden.squaredResidualVariance {
            let w = AnomalyScorer.inverseVarianceOfSquaredResidual(mean: m.mean, theta: m.theta ?? .infinity)
            #expect(abs(w * m.variance - 1) < 1e-10, "mean \(m.mean) theta \(String(describing: m.theta))")
        }
        #expect(AnomalyScorer.inverseVarianceOfSquaredResidual(mean: 0, theta: 3) == 0)
    }

    @Test func tooSmallAReferenceIsRefused() {
        #expect(throws: AnomalyCalibration.CalibrationError.tooFewReferenceCells(found: 19, needed: 20, alpha: 0.05)) {
            try AnomalyCalibration(reference: Array(repeating: 1, count: 19), alpha: 0.05)
        }
    }

    /// Held-out cells too few to flag at alpha still give valid (coarse) p-values; none is refused.
    @Test func aSmallReferenceCanBeAcceptedWhenAsked() throws {
        let c = try AnomalyCalibration(reference: (1...9).map(Double.init), alpha: 0.05, requireFlaggable: false)
        #expect(c.pValue(100) == 0.1 && c.pValue(0) == 1 && c.pValue(5) == 0.6)
        #expect(throws: AnomalyCalibration.CalibrationError.tooFewReferenceCells(found: 0, needed: 1, alpha: 0.05)) {
            try AnomalyCalibration(reference: [], alpha: 0.05, requireFlaggable: false)
        }
    }

    @Test func residualSummaryKeepsTheLargestResidualsWithSigns() {
        let r: [Double] = [0.5, -4, 3, -0.1, 4, 2]
        let s = r.withUnsafeBufferPointer { ResidualSummary(residuals: $0, top: 3) }
        #expect(s.topGenes.map(\.gene) == [1, 4, 2] && s.topGenes.map(\.residual) == [-4, 4, 3])
        #expect(abs(s.score - r.map { $0 * $0 }.reduce(0, +) / 6) < 1e-12)
        let w: [Double] = [1, 0, 2, 0, 0, 1]
        let weighted = r.withUnsafeBufferPointer { ResidualSummary(residuals: $0, weights: w, top: 0) }
        #expect(abs(weighted.score - (0.25 + 2 * 9 + 4) / 4) < 1e-12)
    }
}
