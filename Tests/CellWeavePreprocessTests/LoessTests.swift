@testable import CellWeavePreprocess
import Foundation
import Testing

/// Against scikit-misc's dloess on real data (reference/golden/make_loess_golden.py).
@Suite struct LoessTests {
    struct Golden: Decodable {
        struct Case: Decodable { let span: Double; let fitted: [Double] }
        struct Tied: Decodable { let x: [Double]; let y: [Double]; let span: Double; let fitted: [Double] }
        let x: [Double]
        let y: [Double]
        let cases: [Case]
        let tied: Tied
    }

    let golden: Golden = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("reference/golden/loess_mouse10k.json")
        return try! JSONDecoder().decode(Golden.self, from: Data(contentsOf: url))
    }()

    func maxDifference(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).map { abs($0 - $1) }.max() ?? 0 }

    @Test func matchesDloessOnRealGenes() {
        for c in golden.cases {
            let fitted = Loess(span: c.span, degree: 2).fit(x: golden.x, y: golden.y)
            #expect(maxDifference(fitted, c.fitted) < 1e-9, "span \(c.span)")
        }
    }

    @Test func matchesDloessWithTiedX() {
        let t = golden.tied
        #expect(maxDifference(Loess(span: t.span, degree: 2).fit(x: t.x, y: t.y), t.fitted) < 1e-9)
    }

    @Test func reproducesAQuadraticExactly() {
        let x = (0..<50).map { Double($0) / 7 }
        let y = x.map { 1 + 2 * $0 - 0.5 * $0 * $0 }
        #expect(maxDifference(Loess(span: 0.3).fit(x: x, y: y), y) < 1e-9)
    }
}
