import CellWeaveReport
import Foundation
import Testing

@Suite struct QCReportTests {
    func report() -> QCReport {
        let totals = (0..<300).map { Double(($0 * 37) % 997 + 1) }
        return QCReport(sample: "s<1>", verdict: "warn", verdictReasons: ["median genes per cell 65 (below 200)"], cellsBefore: 300,
                        cellsAfter: 290, genesBefore: 50, genesAfter: 48, removedByReason: ["low_counts": 10],
                        totalCounts: totals, genesDetected: totals.map { ($0 / 3).rounded() + 1 },
                        pctMitochondrial: totals.map { $0.truncatingRemainder(dividingBy: 9) }, pctRibosomal: totals.map { _ in 10 },
                        pctTop50: nil, countRange: 20...900, geneRange: 5...300, mitochondrialLimit: 8,
                        topGenes: [("Actb", 3.5), ("Malat1", 2.25)])
    }

    @Test func pageIsSelfContainedAndComplete() {
        let html = report().html()
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.components(separatedBy: "<svg ").count - 1 == 6) // knee, 4 histograms, scatter
        #expect(!html.contains("src=\"http") && !html.contains("href=\"http") && !html.contains("<script"))
        #expect(html.contains("QC report: s&lt;1&gt;")) // names are escaped
        #expect(html.contains("<td>low_counts</td><td>10</td>"))
        #expect(html.contains("<td>Malat1</td><td>2.25</td>"))
        #expect(html.contains("class=\"verdict warn\""))
        #expect(html.contains("class=\"cut\"")) // thresholds drawn
    }

    @Test func histogramCountsEveryFiniteValue() {
        let svg = SVGPlot(title: "h", xLabel: "x", yLabel: "y").histogram([1, 1, 2, 3, .nan], bins: 2)
        #expect(svg.components(separatedBy: "class=\"bar\"").count - 1 == 2)
    }
}
