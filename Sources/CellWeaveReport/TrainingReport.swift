import Foundation

/// The training report of `cellweave train`: loss curves per epoch (training loss, reconstruction,
/// KL, validation ELBO) and seconds per epoch, with the run's settings.
public struct TrainingReport {
    public var title: String
    public var settings: [(name: String, value: String)]
    public var epochs: [Double]
    public var loss: [Double]
    public var reconstruction: [Double]
    public var kl: [Double]
    public var validationELBO: [Double]
    public var seconds: [Double]
    public var stoppedEarly: Bool

    public init(title: String, settings: [(name: String, value: String)], epochs: [Double], loss: [Double], reconstruction: [Double],
                kl: [Double], validationELBO: [Double], seconds: [Double], stoppedEarly: Bool) {
        self.title = title
        self.settings = settings
        self.epochs = epochs
        self.loss = loss
        self.reconstruction = reconstruction
        self.kl = kl
        self.validationELBO = validationELBO
        self.seconds = seconds
        self.stoppedEarly = stoppedEarly
    }

    public func html() -> String {
        func plot(_ title: String, _ ys: [Double]) -> String {
            let points = zip(epochs, ys).filter { $0.1.isFinite }
            return SVGPlot(title: title, xLabel: "epoch", yLabel: title).line(points.map(\.0), points.map(\.1))
        }
        var plots = [plot("training loss per cell", loss), plot("reconstruction loss per cell", reconstruction), plot("KL per cell", kl)]
        if validationELBO.contains(where: \.isFinite) { plots.append(plot("validation ELBO (negative) per cell", validationELBO)) }
        plots.append(plot("seconds per epoch", seconds))
        let rows = settings.map { "<tr><td>\(escape($0.name))</td><td>\(escape($0.value))</td></tr>" }.joined()
        let total = seconds.reduce(0, +)
        let last = loss.last.map { String(format: "%.2f", $0) } ?? "-"
        let ending = stoppedEarly ? "stopped early (no validation improvement)" : "ran to the maximum number of epochs"
        return HTMLPage.document(title: title, body: """
        <h1>\(escape(title))</h1>
        <p>\(epochs.count) epochs in \(String(format: "%.1f", total)) s; final training loss \(last) per cell; \(ending).</p>
        <table><tr><th>setting</th><th>value</th></tr>\(rows)</table>
        <div class="plots">\(plots.joined(separator: "\n"))</div>
        """)
    }
}
