/// The frame every CellWeave report shares: one self-contained page, inline style, no scripts.
public enum HTMLPage {
    static let style = """
    body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}
    .verdict{display:inline-block;padding:4px 12px;border-radius:4px;font-weight:bold;color:#fff}
    .pass{background:#2e7d32}.warn{background:#e65100}
    table{border-collapse:collapse;margin:8px 16px 8px 0;display:inline-table;vertical-align:top}
    td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
    .plots svg{margin:6px;border:1px solid #eee}
    .t{font-size:13px;font-weight:bold}.a{font-size:10px;fill:#444}.frame{fill:none;stroke:#999}
    .bar{fill:#5c7cfa}.ln{fill:none;stroke:#1c4587;stroke-width:1.5}.cut{stroke:#d32f2f;stroke-dasharray:4 3}.cutl{fill:#d32f2f}
    """

    /// `title` is escaped; `body` is HTML.
    public static func document(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
        <style>
        \(style)
        </style></head><body>
        \(body)
        </body></html>
        """
    }
}
