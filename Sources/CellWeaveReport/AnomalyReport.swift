import Foundation

/// The summary page of `cellweave score`: score distributions of the reference and of each query
/// sample, the calibration, and the most anomalous cells with the genes that drive them.
public struct AnomalyReport {
    public struct Cell {
        public var name: String
        public var sample: String
        public var score: Double
        public var qValue: Double
        public var topGenes: String
        public init(name: String, sample: String, score: Double, qValue: Double, topGenes: String) {
            (self.name, self.sample, self.score, self.qValue, self.topGenes) = (name, sample, score, qValue, topGenes)
        }
    }

    public var title: String
    public var method: String
    public var alpha: Double
    public var referenceScores: [Double]
    /// Scores of the scored cells per sample (batch), in sample order.
    public var sampleScores: [(sample: String, scores: [Double], flagged: Int)]
    public var topCells: [Cell]

    public init(title: String, method: String, alpha: Double, referenceScores: [Double],
                sampleScores: [(sample: String, scores: [Double], flagged: Int)], topCells: [Cell]) {
        self.title = title
        self.method = method
        self.alpha = alpha
        self.referenceScores = referenceScores
        self.sampleScores = sampleScores
        self.topCells = topCells
    }

    public func html() -> String {
        let cut = referenceScores.sorted().dropFirst(Int(Double(referenceScores.count) * (1 - alpha))).first
        func hist(_ name: String, _ scores: [Double]) -> String {
            SVGPlot(title: name, xLabel: "anomaly score", yLabel: "cells", logX: true)
                .histogram(scores.filter { $0 > 0 }, markers: cut.map { [.init(x: $0, label: "reference \(Int((1 - alpha) * 100))%")] } ?? [])
        }
        var plots = [hist("reference cells (\(referenceScores.count))", referenceScores)]
        plots += sampleScores.map { hist("\($0.sample) (\($0.scores.count) cells, \($0.flagged) flagged)", $0.scores) }
        let rows = sampleScores.map { s in
            "<tr><td>\(escape(s.sample))</td><td>\(s.scores.count)</td><td>\(s.flagged)</td><td>\(String(format: "%.2f", 100 * Double(s.flagged) / Double(max(s.scores.count, 1))))</td></tr>"
        }.joined()
        let cells = topCells.map { c in
            "<tr><td>\(escape(c.name))</td><td>\(escape(c.sample))</td><td>\(String(format: "%.3g", c.score))</td><td>\(String(format: "%.3g", c.qValue))</td><td>\(escape(c.topGenes))</td></tr>"
        }.joined()
        return HTMLPage.document(title: title, body: """
        <h1>\(escape(title))</h1>
        <p>Method: \(escape(method)). Scores are calibrated against \(referenceScores.count) reference cells: conformal p-values,
        Benjamini-Hochberg q-values, flagged at q &le; \(alpha).</p>
        <table><tr><th>sample</th><th>cells</th><th>flagged</th><th>% flagged</th></tr>\(rows)</table>
        <div class="plots">\(plots.joined(separator: "\n"))</div>
        <h2>Most anomalous cells</h2>
        <table><tr><th>cell</th><th>sample</th><th>score</th><th>q-value</th><th>top genes (Pearson residual)</th></tr>\(cells)</table>
        """)
    }
}
