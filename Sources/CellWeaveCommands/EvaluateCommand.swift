import ArgumentParser
import CellWeaveAnalysis
import CellWeaveCore
import CellWeaveIO
import CellWeaveReport
import Foundation

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Integration metrics of embeddings (iLISI, cLISI, batch and label silhouette, graph connectivity, Leiden NMI/ARI), as scib-metrics computes them; JSON and HTML.")

    @Argument(help: "An .h5ad with the embeddings in obsm and the batch (and label) columns in obs.") var input: String
    @Option(name: .shortAndLong, help: "The JSON to write: per embedding, every metric.") var output: String
    @Option(help: "Also write the metrics as an HTML page.") var html: String?
    @Option(help: "obs column of the batches (samples).") var batchKey: String
    @Option(help: "obs column of cell-type labels, for the bio-conservation metrics.") var labelKey: String?
    @Option(parsing: .upToNextOption, help: "obsm embeddings to evaluate side by side.") var embeddings: [String] = ["X_pca", "X_cellweave"]
    @Option(help: "Threads.") var threads = ProcessInfo.processInfo.activeProcessorCount

    static let metrics: [(key: String, name: String, meaning: String, value: (IntegrationMetrics) -> Double?)] = [
        ("ilisi", "iLISI", "batch mixing in local neighbourhoods", { $0.iLISI }),
        ("silhouette_batch", "batch silhouette", "batches overlapping within each cell type", { $0.batchSilhouette }),
        ("graph_connectivity", "graph connectivity", "each cell type one connected piece of the kNN graph", { $0.graphConnectivity }),
        ("clisi", "cLISI", "cell types pure in local neighbourhoods", { $0.cLISI }),
        ("silhouette_label", "label silhouette", "cell types separated", { $0.labelSilhouette }),
        ("nmi_leiden", "NMI (Leiden)", "clusters agree with cell types", { $0.nmi }),
        ("ari_leiden", "ARI (Leiden)", "clusters agree with cell types", { $0.ari }),
        ("batch_correction", "batch correction", "mean of the batch metrics above", { $0.batchCorrection }),
        ("bio_conservation", "bio conservation", "mean of the label metrics above", { $0.bioConservation }),
        ("total", "total", "0.4 batch correction + 0.6 bio conservation (scib's weights)", { $0.total }),
    ]

    /// The JSON written (and read back by cellweave report).
    struct Document: Codable {
        let input: String, batchKey: String, labelKey: String?
        /// In the order evaluated.
        let order: [String]
        let embeddings: [String: IntegrationMetrics]
        enum CodingKeys: String, CodingKey { case input, batchKey = "batch_key", labelKey = "label_key", order, embeddings }

        /// The metrics side by side, as a page or a table of one.
        func report() -> IntegrationReport {
            let first = embeddings[order[0]]!
            return IntegrationReport(
                title: "Integration metrics: \((input as NSString).lastPathComponent)",
                settings: [("batch key", "\(batchKey) (\(first.batches) batches)"),
                           ("label key", labelKey.map { "\($0) (\(first.labels ?? 0) labels)" } ?? "none"), ("cells", "\(first.cells)"),
                           ("LISI neighbours", "\(first.lisiNeighbors ?? 90)")],
                metrics: EvaluateCommand.metrics.map { ($0.name, $0.meaning) },
                columns: order.map { name in (name, EvaluateCommand.metrics.map { $0.value(embeddings[name]!) }) })
        }
    }

    func validate() throws {
        for path in [output, html].compactMap({ $0 }) { try AtomicFile.requireDirectory(of: path) }
    }

    func run() throws {
        let adata = try Log.timed("reading \(input)") { try CountMatrixLoader.load(input) }
        let batches = try CovariateColumns.labels(adata, key: batchKey, file: input)
        let labels = try labelKey.map { try CovariateColumns.labels(adata, key: $0, file: input) }
        guard adata.nObs >= IntegrationMetrics.minimumCells else {
            throw ValidationError("\(input): \(adata.nObs) cells; the metrics need at least \(IntegrationMetrics.minimumCells)")
        }
        let neighborhoods = IntegrationMetrics.neighborhoods(cells: adata.nObs)
        if neighborhoods.lisi < 90 {
            Log.info("warning: \(input) has \(adata.nObs) cells: LISI looks at the \(neighborhoods.lisi) other cells, not 90, and the graph metrics at "
                     + "\(neighborhoods.graph) (scores from so few cells are not comparable with those of larger data)")
        }
        guard batches.labels.count > 1 else { throw ValidationError("\(input): obs/\(batchKey) has one batch; nothing to integrate") }
        BLAS.threadCount = 1
        var results: [(String, IntegrationMetrics)] = []
        for name in embeddings {
            let x = try EmbeddingOption.embedding(name, of: adata, file: input)
            let m = try Log.timed("metrics of \(name)") {
                try IntegrationMetrics.compute(x, batches: batches.codes, labels: labels?.codes, threads: threads)
            }
            Log.info("\(name): " + Self.metrics.compactMap { metric in metric.value(m).map { "\(metric.key) \(String(format: "%.3f", $0))" } }
                .joined(separator: ", "))
            results.append((name, m))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let document = Document(input: input, batchKey: batchKey, labelKey: labelKey, order: results.map(\.0),
                                embeddings: Dictionary(uniqueKeysWithValues: results.map { ($0.0, $0.1) }))
        let json = try encoder.encode(document)
        if let html { try AtomicFile.write(Data(document.report().html().utf8), to: html) }
        try AtomicFile.write(json, to: output)
    }
}
