import Foundation

/// One sample's QC as a self-contained HTML page: knee plot, metric distributions with the
/// thresholds drawn, counts against genes coloured by mitochondrial share, removals by reason,
/// top expressed genes and a pass/warn verdict.
public struct QCReport {
    public var sample: String
    public var verdict: String
    public var verdictReasons: [String]
    public var cellsBefore: Int
    public var cellsAfter: Int
    public var genesBefore: Int
    public var genesAfter: Int
    public var removedByReason: [String: Int]
    /// Per cell, before filtering.
    public var totalCounts: [Double]
    public var genesDetected: [Double]
    public var pctMitochondrial: [Double]
    public var pctRibosomal: [Double]
    public var pctTop50: [Double]?
    public var countRange: ClosedRange<Double>
    public var geneRange: ClosedRange<Double>
    public var mitochondrialLimit: Double
    /// Genes with the largest share of all counts, in percent.
    public var topGenes: [(name: String, percent: Double)]
    /// The sample's surface-protein counts, when it has an antibody panel.
    public var protein: Protein?

    /// Per cell measured for protein, before filtering (cells are filtered on RNA).
    public struct Protein {
        public var proteins: Int
        public var cellsAfter: Int
        public var totalCounts: [Double]
        public var proteinsDetected: [Double]
        public var topProteins: [(name: String, percent: Double)]
        public init(proteins: Int, cellsAfter: Int, totalCounts: [Double], proteinsDetected: [Double], topProteins: [(name: String, percent: Double)]) {
            self.proteins = proteins
            self.cellsAfter = cellsAfter
            self.totalCounts = totalCounts
            self.proteinsDetected = proteinsDetected
            self.topProteins = topProteins
        }
    }

    public init(sample: String, verdict: String, verdictReasons: [String], cellsBefore: Int, cellsAfter: Int, genesBefore: Int,
                genesAfter: Int, removedByReason: [String: Int], totalCounts: [Double], genesDetected: [Double],
                pctMitochondrial: [Double], pctRibosomal: [Double], pctTop50: [Double]?, countRange: ClosedRange<Double>,
                geneRange: ClosedRange<Double>, mitochondrialLimit: Double, topGenes: [(name: String, percent: Double)]) {
        self.sample = sample
        self.verdict = verdict
        self.verdictReasons = verdictReasons
        self.cellsBefore = cellsBefore
        self.cellsAfter = cellsAfter
        self.genesBefore = genesBefore
        self.genesAfter = genesAfter
        self.removedByReason = removedByReason
        self.totalCounts = totalCounts
        self.genesDetected = genesDetected
        self.pctMitochondrial = pctMitochondrial
        self.pctRibosomal = pctRibosomal
        self.pctTop50 = pctTop50
        self.countRange = countRange
        self.geneRange = geneRange
        self.mitochondrialLimit = mitochondrialLimit
        self.topGenes = topGenes
    }

    public func html() -> String {
        let ranked = totalCounts.sorted(by: >)
        // The knee plot needs its shape, not every cell: about 2,000 points on a log scale.
        let step = max(1, ranked.count / 2000)
        let kneeIdx = Array(stride(from: 0, to: ranked.count, by: step)).filter { ranked[$0] > 0 }
        var knee = SVGPlot(title: "Barcode rank (knee) plot", xLabel: "barcode rank", yLabel: "total counts", logX: true, logY: true)
        knee.width = 420
        let kneeSVG = knee.line(kneeIdx.map { Double($0 + 1) }, kneeIdx.map { ranked[$0] },
                                markersY: [.init(x: countRange.lowerBound, label: "min"), .init(x: countRange.upperBound, label: "max")])

        func hist(_ title: String, _ values: [Double], log: Bool, _ markers: [SVGPlot.Marker]) -> String {
            SVGPlot(title: title, xLabel: title, yLabel: "cells", logX: log).histogram(values, markers: markers)
        }
        var plots = [
            kneeSVG,
            hist("total counts", totalCounts, log: true, [.init(x: countRange.lowerBound, label: "min"), .init(x: countRange.upperBound, label: "max")]),
            hist("genes detected", genesDetected, log: true, [.init(x: geneRange.lowerBound, label: "min"), .init(x: geneRange.upperBound, label: "max")]),
            hist("% mitochondrial counts", pctMitochondrial, log: false, [.init(x: mitochondrialLimit, label: "max")]),
            hist("% ribosomal counts", pctRibosomal, log: false, []),
        ]
        if let pctTop50 { plots.append(hist("% counts in top 50 genes", pctTop50, log: false, [])) }
        // At most 5,000 cells in the scatter keeps the page light; every n-th cell is as fair as any.
        let every = max(1, totalCounts.count / 5000)
        let shown = Array(stride(from: 0, to: totalCounts.count, by: every)).filter { totalCounts[$0] > 0 }
        plots.append(SVGPlot(title: "counts vs genes (colour: % mitochondrial)", xLabel: "total counts", yLabel: "genes detected",
                             logX: true, logY: true)
            .scatter(shown.map { totalCounts[$0] }, shown.map { genesDetected[$0] }, colour: shown.map { pctMitochondrial[$0] }))

        let removals = removedByReason.sorted { $0.key < $1.key }.map { "<tr><td>\(escape($0.key))</td><td>\($0.value)</td></tr>" }.joined()
        let genes = topGenes.map { "<tr><td>\(escape($0.name))</td><td>\(String(format: "%.2f", $0.percent))</td></tr>" }.joined()
        let reasons = verdictReasons.isEmpty ? "" : "<ul>" + verdictReasons.map { "<li>\(escape($0))</li>" }.joined() + "</ul>"
        let thresholds = String(format: "total counts %.0f to %.0f; genes %.0f to %.0f; mitochondrial at most %.1f%%",
                                countRange.lowerBound, countRange.upperBound, geneRange.lowerBound, geneRange.upperBound, mitochondrialLimit)
        var proteinSection = ""
        if let protein {
            let median = protein.totalCounts.isEmpty ? 0 : protein.totalCounts.sorted()[protein.totalCounts.count / 2]
            let rows = protein.topProteins.map { "<tr><td>\(escape($0.name))</td><td>\(String(format: "%.2f", $0.percent))</td></tr>" }.joined()
            let proteinPlots = [
                hist("total ADT counts", protein.totalCounts.map { $0 + 1 }, log: true, []),
                hist("proteins detected", protein.proteinsDetected, log: false, []),
            ]
            proteinSection = """
            <h2>Surface protein (antibody capture)</h2>
            <table><tr><td>proteins in the panel</td><td>\(protein.proteins)</td></tr>
            <tr><td>cells measured (before / after RNA QC)</td><td>\(protein.totalCounts.count) / \(protein.cellsAfter)</td></tr>
            <tr><td>median ADT counts per cell</td><td>\(String(format: "%.0f", median))</td></tr></table>
            <table><tr><th>protein</th><th>% of ADT counts</th></tr>\(rows)</table>
            <p>Cells are filtered on RNA; their protein counts go with them. ADT counts are plotted as counts + 1.</p>
            <div class="plots">\(proteinPlots.joined(separator: "\n"))</div>
            """
        }
        return HTMLPage.document(title: "QC: \(sample)", body: """
        <h1>QC report: \(escape(sample))</h1>
        <p><span class="verdict \(verdict == "pass" ? "pass" : "warn")">\(escape(verdict))</span></p>\(reasons)
        <table><tr><th></th><th>before</th><th>after</th></tr>
        <tr><td>cells</td><td>\(cellsBefore)</td><td>\(cellsAfter)</td></tr>
        <tr><td>genes</td><td>\(genesBefore)</td><td>\(genesAfter)</td></tr></table>
        <table><tr><th>removal reason</th><th>cells</th></tr>\(removals.isEmpty ? "<tr><td>none</td><td>0</td></tr>" : removals)</table>
        <table><tr><th>top expressed gene</th><th>% of counts</th></tr>\(genes)</table>
        <p>Thresholds applied: \(thresholds). A cell may fail for several reasons.</p>
        <div class="plots">\(plots.joined(separator: "\n"))</div>\(proteinSection)
        """)
    }
}
