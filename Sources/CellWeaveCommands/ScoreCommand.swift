import ArgumentParser
import CellWeaveCore
import CellWeaveIO
import CellWeaveModel
import CellWeavePreprocess
import CellWeaveReport
import Foundation

public struct ScoreCommand: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Calibrated anomaly scores: model-based Pearson residuals per cell, conformal p-values against reference cells, Benjamini-Hochberg q-values and flags.",
        discussion: """
        Reference cells (not used to fit the model) calibrate the scores: by default the cells that train held out \
        (read from the model's training file), or every cell of --reference, or the cells of one batch of the input \
        (--reference-batch). Batches the model has not seen are mapped first (scArches-style), so a sample's batch \
        effect is not taken for anomaly.
        """)

    @Argument(help: "A model directory written by cellweave train.") var model: String
    @Argument(help: "The .h5ad to score (the model's genes, matched by id, and covariate columns).") var input: String
    @Option(name: .shortAndLong, help: "The .h5ad to write: the input with obs anomaly_score, anomaly_z, anomaly_pvalue, anomaly_qvalue, anomaly_flag.")
    var output: String
    @Option(help: "Reference cells: every cell of this .h5ad.") var reference: String?
    @Option(help: "Reference cells: the input's cells of this batch (category of the model's batch key).") var referenceBatch: String?
    @Option(help: "False discovery rate at which cells are flagged.") var alpha = 0.05
    @Option(help: "model (residuals of the trained model) or analytic (model-free analytic Pearson residuals, for comparison).")
    var method: AnomalyScoring.Method = .model
    @Option(help: "Per-cell statistic of the residuals: weighted-mean-squared (squared residuals weighted by 1 / their variance under the model), mean-squared, deviance, or reconstruction.") var statistic: ResidualStatistic = .weightedMeanSquared
    @Option(help: "Genes with the largest residuals listed per cell in --tsv and --report.") var topGenes = 10
    @Option(help: "Clip model-based residuals to +-this value, so one gene cannot dominate a score (0: no clipping).") var clip = 10.0
    @Option(help: "Also write the per-cell table (scores, p, q, flag, top genes) as .tsv.") var tsv: String?
    @Option(help: "Also write an HTML summary.") var report: String?
    @OptionGroup var counts: ModelCountsOptions
    @Option(help: "Threads.") var threads = ProcessInfo.processInfo.activeProcessorCount
    @OptionGroup var mapping: QueryMappingOptions
    @OptionGroup var compression: CompressionOption
    @OptionGroup var link: LinkOption

    public func validate() throws {
        if reference != nil && referenceBatch != nil { throw ValidationError("--reference and --reference-batch exclude each other.") }
        guard alpha > 0, alpha < 1 else { throw ValidationError("--alpha must be in (0, 1).") }
        guard topGenes >= 0, threads >= 1 else { throw ValidationError("--top-genes must be >= 0 and --threads >= 1.") }
        try StreamingBudget.validate(maxMemory)
        for path in [output, tsv, report].compactMap({ $0 }) { try AtomicFile.requireDirectory(of: path) }
    }

    @Option(help: "Stream the counts from the .h5ad on disk in this much memory (e.g. 1G): models of RNA alone, batches the model knows, --method model; the scores are the same as without it. Without it, score streams by itself (where it can) when the counts would not fit in the memory free.")
    var maxMemory: String?

    public func run() throws {
        BLAS.threadCount = 1
        let (manifest, tensors) = try ModelDirectory(path: model).load()
        let source = counts.source(default: manifest.countsSource)
        // In memory a reference file is held beside the query, and the two stacked: up to 5.1x the
        // CSR (measured at 2 million cells when the held-out cells of the query's own file were
        // read again as a reference, which they no longer are; BENCHMARKS.md).
        if let budget = try StreamingBudget.choose(maxMemory, file: input, matrix: source, peak: 5,
                                                   canStream: method == .model && manifest.modalities == nil) {
            return try runStreamed(manifest, tensors: tensors, budget: budget)
        }
        let (loaded, query) = try counts.read(input, manifest: manifest)
        var adata = loaded.adata

        // The reference: its own file (then stacked under the query's rows) or some of the query's cells.
        let choice: AnomalyScoring.Reference
        if let referenceBatch {
            choice = .batch(referenceBatch, queryFile: input)
        } else {
            let file = try referenceFile(manifest)
            if reference == nil && Self.sameFile(file, input) {
                // The held-out cells are the query's own: scored once, in the query's pass (as streamed).
                choice = .heldOut(nil, obsNames: adata.obs.index, heldOut: manifest.validationCells, file: file)
            } else {
                let (refData, inputs) = try counts.read(file, manifest: manifest, knownCategories: query.categories)
                choice = reference != nil ? .file(inputs, file: file)
                    : .heldOut(inputs, obsNames: refData.adata.obs.index, heldOut: manifest.validationCells, file: file)
            }
        }
        let scoring: AnomalyScoring
        do {
            scoring = try AnomalyScoring(query: query, reference: choice, modelCategoryCounts: manifest.configuration.categoryCounts)
        } catch let e as AnomalyScoring.ReferenceError {
            throw ValidationError("\(input): \(e.description) (obs '\(manifest.covariates[0].key)')")
        }
        let set = scoring.set
        let vae = method == .model
            ? try mapping.model(manifest, tensors: tensors, categories: set.categories, data: set.data, capacity: 1024, threads: threads) : nil
        let result = try Log.timed("scoring \(set.queryRows.count) + \(set.referenceRows.count) reference cells") {
            try scoring.run(model: vae, settings: settings)
        }
        for (name, values) in report(result, manifest: manifest) { try adata.obs.setColumn(name, values) }
        Provenance.record(&adata, parameters: provenance(referenceCells: set.referenceRows.count))
        try Log.timed("writing \(output)") { try LoadedInput(adata: adata, whole: loaded.whole).write(to: output, compression: compression.hdf5, linkUnchanged: link.linkUnchanged) }
        try writeSummaries(result, referenceName: scoring.referenceName, manifest: manifest, cells: adata.obs.index,
                           batches: (query.codes[0], query.categories[0]))
    }

    private var settings: AnomalyScoring.Settings {
        var settings = AnomalyScoring.Settings()
        // The top genes appear in --tsv and --report alone: without them none are kept, since a
        // list per cell would be most of the memory of a score of millions of cells.
        let listed = tsv != nil || report != nil ? topGenes : 0
        (settings.method, settings.statistic, settings.topGenes, settings.clip, settings.alpha) = (method, statistic, listed, clip > 0 ? clip : nil, alpha)
        return settings
    }

    private func provenance(referenceCells: Int) -> [(String, UnsValue)] {
        [("model", .string(model)), ("method", .string(method.rawValue)), ("alpha", .number(alpha)), ("reference_cells", .number(Double(referenceCells)))]
    }

    /// --reference, else the model's training file (where its held-out cells are).
    private func referenceFile(_ manifest: ModelManifest) throws -> String {
        let file = reference ?? manifest.trainingFile
        guard FileManager.default.fileExists(atPath: file) else {
            throw InputError(.notFound, file: file, "the reference file is not there (the model's held-out cells live in its training file); give --reference or --reference-batch")
        }
        return file
    }

    /// Data-parallel scoring (`cellweave-mpi score`): each process scores its share of the query's
    /// (and a reference file's) cells, read from the .h5ad's rows (in blocks within --max-memory
    /// when given); the first gathers the scores, calibrates them and writes what a streamed score
    /// writes. Shares are whole chunks, so the scores are those of `cellweave score`, bit for bit.
    public func run(processGroup group: any ProcessGroup) throws {
        Log.enabled = group.rank == 0
        BLAS.threadCount = 1
        let (manifest, tensors) = try ModelDirectory(path: model).load()
        try runStreamed(manifest, tensors: tensors, budget: maxMemory.flatMap(MemoryLimit.parse), processGroup: group)
    }

    /// Scores of counts streamed block by block; reference cells in the query are not read twice.
    /// The output is the input, linked or copied as stored, with the obs columns added. `budget`:
    /// the memory a block's counts may take (nil: a process's cells in one block).
    private func runStreamed(_ manifest: ModelManifest, tensors: [NamedTensor], budget: UInt64?, processGroup group: (any ProcessGroup)? = nil) throws {
        let streaming = group == nil ? "--max-memory" : "data-parallel scoring"
        guard method == .model else { throw ValidationError("\(streaming) scores with --method model") }
        let source = counts.source(default: manifest.countsSource)
        let vae = VariationalAutoencoder<Float>(configuration: manifest.configuration, capacity: 1024, threads: threads, seed: 0)
        try vae.load(tensors)
        func cells(_ input: StreamedInput) -> StreamedAnomalyScoring.Cells {
            .init(inference: StreamedInference(model: vae, codes: input.codes, categoryCounts: manifest.configuration.categoryCounts), counts: input.counts)
        }
        let query = try StreamedInput(input, manifest: manifest, source: source, streaming: streaming)
        let choice: StreamedAnomalyScoring.Reference
        if let referenceBatch {
            choice = .batch(referenceBatch, categories: query.categories[0], queryFile: input)
        } else {
            let file = try referenceFile(manifest)
            let same = reference == nil && Self.sameFile(file, input)
            let other = same ? nil : try StreamedInput(file, manifest: manifest, source: source, streaming: streaming)
            choice = reference != nil ? .file(cells(other!), file: file)
                : .heldOut(obsNames: other?.obs.index ?? query.obs.index, heldOut: manifest.validationCells, cells: other.map(cells), file: file)
        }
        let blockRows = budget.map(query.stream.blockRows) ?? query.stream.rows
        Log.info("streaming \(query.stream.rows) cells from \(query.matrix) in blocks of about \(blockRows)"
                 + (group.map { " on each of \($0.size) processes" } ?? ""))
        let scoring = StreamedAnomalyScoring(query: cells(query), reference: choice, blockRows: blockRows)
        let scored: (result: AnomalyScoring.Result, referenceName: String)?
        do {
            scored = try Log.timed("scoring \(query.stream.rows) cells") { try scoring.run(settings: settings, processGroup: group) }
        } catch let e as AnomalyScoring.ReferenceError {
            throw ValidationError("\(input): \(e.description) (obs '\(manifest.covariates[0].key)')")
        }
        guard let (result, referenceName) = scored else { return }  // not the first process: it writes
        var uns: [(name: String, value: UnsValue)] = []
        Provenance.record(&uns, parameters: provenance(referenceCells: result.referenceScores.count)
                          + [("max_memory", .string(maxMemory ?? budget.map(MemoryLimit.describe) ?? "none"))])
        try Log.timed("writing \(output)") {
            try H5adAdditionWriter.write(to: output, from: input, obs: report(result, manifest: manifest), uns: uns,
                                         linkUnchanged: link.linkUnchanged, compression: compression.hdf5)
        }
        try writeSummaries(result, referenceName: referenceName, manifest: manifest, cells: query.obs.index,
                           batches: (query.codes[0], query.categories[0]))
    }

    static func sameFile(_ a: String, _ b: String) -> Bool {
        URL(fileURLWithPath: a).standardizedFileURL.resolvingSymlinksInPath() == URL(fileURLWithPath: b).standardizedFileURL.resolvingSymlinksInPath()
    }

    /// The obs columns of the scores, logging the notes and warnings.
    private func report(_ result: AnomalyScoring.Result, manifest: ModelManifest) -> [(name: String, values: ColumnValues)] {
        result.notes.forEach(Log.info)
        result.warnings.forEach { Log.info("warning: " + $0) }
        let calibrated = result.calibrated
        var columns: [(name: String, values: ColumnValues)] = [
            ("anomaly_score", .numeric(NumericArray(floats: calibrated.map(\.score)))),
            ("anomaly_z", .numeric(NumericArray(floats: calibrated.map(\.z)))),
            ("anomaly_pvalue", .numeric(NumericArray(floats: calibrated.map(\.pValue)))),
            ("anomaly_qvalue", .numeric(NumericArray(floats: result.qValues))),
            ("anomaly_flag", .booleans(result.flags)),
        ]
        if manifest.modalities != nil { columns.append(("anomaly_modalities", .categorical(labels: calibrated.map(\.basis.rawValue)))) }
        return columns
    }

    /// --tsv and --report.
    private func writeSummaries(_ result: AnomalyScoring.Result, referenceName: String, manifest: ModelManifest, cells: [String],
                                batches: (codes: [Int32], categories: [String])) throws {
        guard tsv != nil || report != nil else { return }
        let samples = batches.codes.map { batches.categories[Int($0)] }, batchOrder = batches.categories
        let queryScores = result.queryScores, calibrated = result.calibrated
        let scores = calibrated.map(\.score), p = calibrated.map(\.pValue), q = result.qValues, flags = result.flags
        let genes = manifest.geneNames, proteins = manifest.modalities?.first { $0.kind == .protein }?.features ?? []
        let topText = queryScores.map { s in
            (s.rna.topGenes.map { "\(genes[$0.gene]):\(String(format: "%+.2f", $0.residual))" }
                + (s.protein?.topGenes.prefix(3).map { "\(proteins[$0.gene]):\(String(format: "%+.2f", $0.residual))" } ?? []))
                .joined(separator: ",")
        }
        if let tsv {
            // The modalities column appears for models of several modalities only; top_genes lists proteins too.
            let multimodal = manifest.modalities != nil
            var text = "cell\tsample\tanomaly_score\tanomaly_z\tanomaly_pvalue\tanomaly_qvalue\tanomaly_flag\t\(multimodal ? "modalities\t" : "")top_genes\n"
            for i in scores.indices {
                text += "\(cells[i])\t\(samples[i])\t\(scores[i])\t\(calibrated[i].z)\t\(p[i])\t\(q[i])\t\(flags[i])\t"
                    + (multimodal ? "\(calibrated[i].basis.rawValue)\t" : "") + "\(topText[i])\n"
            }
            try TSVWriter.write(text, to: tsv)
        }
        if let report {
            let order = scores.indices.sorted { scores[$0] > scores[$1] }.prefix(25)
            // Samples in the batch key's category order.
            let rowsOf = Dictionary(grouping: scores.indices, by: { samples[$0] })
            let bySample = batchOrder.compactMap { sample in
                rowsOf[sample].map { rows in (sample: sample, scores: rows.map { scores[$0] }, flagged: rows.filter { flags[$0] }.count) }
            }
            let bases = Dictionary(grouping: calibrated, by: \.basis).map { "\($0.value.count) cells on \($0.key.rawValue)" }.sorted()
            let page = AnomalyReport(title: "CellWeave anomaly scores: \((input as NSString).lastPathComponent)",
                                     method: "\(method.rawValue) Pearson residuals, \(statistic.rawValue); reference: \(referenceName); "
                                         + bases.joined(separator: ", "),
                                     alpha: alpha, referenceScores: result.referenceScores.map(\.rna.score), sampleScores: bySample,
                                     topCells: order.map { .init(name: cells[$0], sample: samples[$0], score: scores[$0], qValue: q[$0], topGenes: topText[$0]) })
            try AtomicFile.write(Data(page.html().utf8), to: report)
        }
    }
}

extension AnomalyScoring.Method: ExpressibleByArgument {}

extension ResidualStatistic: ExpressibleByArgument {}
