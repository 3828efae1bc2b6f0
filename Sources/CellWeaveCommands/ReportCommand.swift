import ArgumentParser
import CellWeaveCore
import CellWeaveIO
import CellWeaveReport
import Foundation

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "One HTML page for a pipeline run: its numbers, links to every stage's report and output, layouts before and after correction, the metrics.",
        discussion: "Reads the run directory the pipeline rules write (pipelines/cellweave.mk): cellweave.h5mu (runs with protein) or cellweave.h5ad, metrics.json, qc/, model/, anomaly.html.")

    @Argument(help: "The run's output directory.") var runDirectory: String
    @Option(name: .shortAndLong, help: "The HTML to write (links are relative to it).") var output: String

    func run() throws {
        let multimodal = runDirectory + "/cellweave.h5mu"
        let final = FileManager.default.fileExists(atPath: multimodal) ? multimodal : runDirectory + "/cellweave.h5ad"
        let loaded = try Log.timed("reading \(final)") { try LoadedInput.read(final, needsCounts: false) }
        let adata = loaded.adata
        let base = URL(fileURLWithPath: (output as NSString).deletingLastPathComponent.isEmpty ? "." : (output as NSString).deletingLastPathComponent)
            .standardizedFileURL
        func link(_ label: String, _ path: String) -> (label: String, href: String)? {
            guard FileManager.default.fileExists(atPath: path) else { return nil }
            return (label, Self.relative(URL(fileURLWithPath: path).standardizedFileURL, to: base))
        }
        let samples = (try? CovariateColumns.labels(adata, key: "sample", file: final))?.labels ?? []
        let qcLinks = samples.compactMap { link("QC report: \($0)", "\(runDirectory)/qc/\($0).html") }
        let stageLinks = [link("training curves", "\(runDirectory)/model/training.html"), link("anomaly scores", "\(runDirectory)/anomaly.html"),
                          link("integration metrics", "\(runDirectory)/metrics.html")].compactMap { $0 }
        let outputs = [link("cellweave.h5mu (every modality, their embeddings, imputed protein)", multimodal),
                       link("cellweave.h5ad (counts, obs, X_cellweave, X_pca, X_umap, graph)", runDirectory + "/cellweave.h5ad"),
                       link("obs table (TSV)", "\(runDirectory)/cellweave_obs.tsv"), link("X_cellweave (NPY)", "\(runDirectory)/X_cellweave.npy"),
                       link("X_umap (TSV)", "\(runDirectory)/X_umap.tsv"), link("anomaly table (TSV)", "\(runDirectory)/anomaly.tsv"),
                       link("metrics (JSON)", "\(runDirectory)/metrics.json")].compactMap { $0 }

        var layouts: [(name: String, x: [Double], y: [Double])] = []
        for (name, key) in [("before correction (X_pca)", "X_umap_pca"), ("after correction (X_cellweave)", "X_umap")] {
            guard adata.obsm.contains(where: { $0.name == key }) else { continue }
            let m = try EmbeddingOption.embedding(key, of: adata, file: final)
            layouts.append((name, (0..<m.rows).map { Double(m[$0, 0]) }, (0..<m.rows).map { Double(m[$0, 1]) }))
        }
        var colourings: [(name: String, colouring: RunReport.Colouring)] = []
        for key in ["sample", "leiden", "cell_type"] {
            if case let .categorical(codes, .strings(names), _)? = adata.obs[key] {
                colourings.append((key, .categories(codes: codes.map(Int.init), names: names)))
            }
        }
        if case let .numeric(v)? = adata.obs["anomaly_score"], case let .floats(scores) = v.storage {
            colourings.append(("anomaly score", .values(scores)))
        }

        let protein = loaded.whole?.modality(.protein)
        if let protein { colourings += try proteinColourings(protein, imputed: adata, file: final) }

        let metrics = try? JSONDecoder().decode(EvaluateCommand.Document.self, from: Data(contentsOf: URL(fileURLWithPath: runDirectory + "/metrics.json")))
        var summary: [(name: String, value: String)] = [("cells", "\(adata.nObs)"), ("genes", "\(adata.nVars)"), ("samples", samples.joined(separator: ", "))]
        if case let .categorical(_, .strings(clusters), _)? = adata.obs["leiden"] { summary.append(("Leiden clusters", "\(clusters.count)")) }
        if case let .booleans(flags)? = adata.obs["anomaly_flag"] { summary.append(("cells flagged anomalous", "\(flags.filter { $0 }.count)")) }
        if let protein { summary.append(("proteins (cells measured)", "\(protein.data.nVars) (\(protein.cells.count) of \(adata.nObs))")) }
        let report = RunReport(title: "CellWeave run: \((runDirectory as NSString).lastPathComponent)", summary: summary,
                               links: [("Per-sample QC", qcLinks), ("Stages", stageLinks), ("Outputs", outputs)].filter { !$0.1.isEmpty },
                               layouts: layouts, colourings: colourings, metrics: metrics?.report())
        try AtomicFile.write(Data(report.html().utf8), to: output)
        Log.info("\(output): \(qcLinks.count + stageLinks.count + outputs.count) links, \(layouts.count) layouts, metrics \(metrics == nil ? "absent" : "included")")
    }

    /// The three most variable proteins, log1p of the measured counts (grey where a cell has none)
    /// and of the imputed expression (obsm protein_imputed) when the run imputed it.
    func proteinColourings(_ protein: Modality, imputed adata: AnnData, file: String) throws -> [(name: String, colouring: RunReport.Colouring)] {
        let x = protein.data.x.toCSR().toDense(), p = protein.data.nVars, n = protein.cells.count
        guard n > 1 else { return [] }
        let variances = (0..<p).map { j -> Double in
            let v = (0..<n).map { Double.log(1 + Double(x[$0, j])) }, mean = v.reduce(0, +) / Double(n)
            return v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +)
        }
        let cells = adata.nObs
        let imputed = adata.obsm.contains { $0.name == "protein_imputed" } ? try EmbeddingOption.embedding("protein_imputed", of: adata, file: file) : nil
        var out: [(name: String, colouring: RunReport.Colouring)] = []
        for j in (0..<p).sorted(by: { variances[$0] > variances[$1] }).prefix(3) {
            let name = protein.data.varTable.index[j]
            var measured = [Double](repeating: .nan, count: cells)
            for (i, c) in protein.cells.enumerated() { measured[c] = Double.log(1 + Double(x[i, j])) }
            out.append(("\(name) (measured, log1p)", .values(measured)))
            if let imputed { out.append(("\(name) (imputed, log1p)", .values((0..<cells).map { Double.log(1 + Double(imputed[$0, j])) }))) }
        }
        return out
    }

    /// `target`'s path relative to the directory `base`.
    static func relative(_ target: URL, to base: URL) -> String {
        let t = target.pathComponents, b = base.pathComponents
        var common = 0
        while common < min(t.count, b.count) && t[common] == b[common] { common += 1 }
        return (Array(repeating: "..", count: b.count - common) + t[common...]).joined(separator: "/")
    }
}
