/// The one page of a pipeline run: its numbers, links to every stage's own report and output,
/// the layouts of the cells before and after correction coloured by sample, cluster, label and
/// anomaly score, and the integration metrics.
public struct RunReport {
    /// How a layout's points are coloured.
    public enum Colouring {
        case categories(codes: [Int], names: [String])
        case values([Double])
    }

    public var title: String
    public var summary: [(name: String, value: String)]
    /// Sections of links (label, href relative to the report).
    public var links: [(section: String, items: [(label: String, href: String)])]
    /// Layouts by name (e.g. "before correction (X_pca)"): x, y per cell.
    public var layouts: [(name: String, x: [Double], y: [Double])]
    public var colourings: [(name: String, colouring: Colouring)]
    public var metrics: IntegrationReport?

    public init(title: String, summary: [(name: String, value: String)], links: [(section: String, items: [(label: String, href: String)])],
                layouts: [(name: String, x: [Double], y: [Double])], colourings: [(name: String, colouring: Colouring)],
                metrics: IntegrationReport?) {
        self.title = title
        self.summary = summary
        self.links = links
        self.layouts = layouts
        self.colourings = colourings
        self.metrics = metrics
    }

    public func html() -> String {
        let summaryRows = summary.map { "<tr><td>\(escape($0.name))</td><td>\(escape($0.value))</td></tr>" }.joined()
        let linkLists = links.map { section in
            "<h3>\(escape(section.section))</h3><ul>"
                + section.items.map { "<li><a href=\"\(escape($0.href))\">\(escape($0.label))</a></li>" }.joined() + "</ul>"
        }.joined()
        var panels = ""
        for (name, colouring) in colourings {
            panels += "<h3>coloured by \(escape(name))</h3><div class=\"plots\">"
            for layout in layouts {
                var plot = SVGPlot(title: "\(layout.name): \(name)", xLabel: "UMAP 1", yLabel: "UMAP 2")
                plot.width = 480
                plot.height = 360
                switch colouring {
                case let .categories(codes, names): panels += plot.scatter(layout.x, layout.y, categories: codes, names: names)
                case let .values(v): panels += plot.scatter(layout.x, layout.y, colour: v)
                }
            }
            panels += "</div>"
        }
        return HTMLPage.document(title: title, body: """
            <h1>\(escape(title))</h1>
            <table id="summary">\(summaryRows)</table>
            <h2>Stages</h2>
            \(linkLists)
            <h2>Integration metrics</h2>
            \(metrics?.table() ?? "<p>No metrics (run cellweave evaluate).</p>")
            <h2>Cells before and after correction</h2>
            \(panels)
            """)
    }
}
