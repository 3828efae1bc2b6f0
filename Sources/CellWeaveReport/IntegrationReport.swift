import Foundation

/// The page of `cellweave evaluate`: integration metrics side by side for each embedding
/// (e.g. the uncorrected X_pca and the corrected X_cellweave), each scaled so that 1 is best.
public struct IntegrationReport {
    public var title: String
    public var settings: [(name: String, value: String)]
    /// Metric names with what they measure, in display order.
    public var metrics: [(name: String, meaning: String)]
    /// Per embedding, one value (or nil: not computed) per metric.
    public var columns: [(embedding: String, values: [Double?])]

    public init(title: String, settings: [(name: String, value: String)], metrics: [(name: String, meaning: String)],
                columns: [(embedding: String, values: [Double?])]) {
        self.title = title
        self.settings = settings
        self.metrics = metrics
        self.columns = columns
    }

    public func html() -> String {
        let settingsRows = settings.map { "<tr><td>\(escape($0.name))</td><td>\(escape($0.value))</td></tr>" }.joined()
        return HTMLPage.document(title: title, body: """
            <h1>\(escape(title))</h1>
            \(table())
            <table>\(settingsRows)</table>
            """)
    }

    /// The metrics table with a note on how they are computed, for this page and the run report.
    public func table() -> String {
        var rows = "<tr><th>metric</th>" + columns.map { "<th>\(escape($0.embedding))</th>" }.joined() + "<th>measures</th></tr>"
        for (i, metric) in metrics.enumerated() {
            let cells = columns.map { column in
                "<td>" + (column.values[i].map { $0.isNaN ? "n/a" : String(format: "%.3f", $0) } ?? "&ndash;") + "</td>"
            }
            rows += "<tr><td><b>\(escape(metric.name))</b></td>" + cells.joined() + "<td>\(escape(metric.meaning))</td></tr>"
        }
        return """
            <table id="metrics">\(rows)</table>
            <p>Scaled as scib-metrics scales them: 1 is best. Neighbours are exact; LISI uses 90, graph connectivity and
            Leiden 15. NMI/ARI: Leiden clusters at the resolution (0.2 to 2) with the best NMI.</p>
            """
    }
}
