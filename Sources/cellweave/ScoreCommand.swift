import ArgumentParser
import CellWeaveCore
import CellWeaveIO
import CellWeaveModel
import CellWeavePreprocess
import CellWeaveReport
import Foundation

struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
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
    var method: ScoreMethod = .model
    @Option(help: "Per-cell statistic of the residuals: weighted-mean-squared (squared residuals weighted by 1 / their variance under the model), mean-squared, deviance, or reconstruction.") var statistic: ResidualStatistic = .weightedMeanSquared
    @Option(help: "Genes with the largest residuals listed per cell.") var topGenes = 10
    @Option(help: "Clip model-based residuals to +-this value, so one gene cannot dominate a score (0: no clipping).") var clip = 10.0
    @Option(help: "Also write the per-cell table (scores, p, q, flag, top genes) as .tsv.") var tsv: String?
    @Option(help: "Also write an HTML summary.") var report: String?
    @OptionGroup var counts: ModelCountsOptions
    @Option(help: "Threads.") var threads = ProcessInfo.processInfo.activeProcessorCount
    @OptionGroup var mapping: QueryMappingOptions
    @OptionGroup var compression: CompressionOption

    func validate() throws {
        if reference != nil && referenceBatch != nil { throw ValidationError("--reference and --reference-batch exclude each other.") }
        guard alpha > 0, alpha < 1 else { throw ValidationError("--alpha must be in (0, 1).") }
        guard topGenes >= 0, threads >= 1 else { throw ValidationError("--top-genes must be >= 0 and --threads >= 1.") }
    }

    func run() throws {
        BLAS.threadCount = 1
        let (manifest, tensors) = try ModelDirectory(path: model).load()
        let loaded = try Log.timed("reading \(input)") { try LoadedInput.read(input) }
        var adata = loaded.adata
        let source = counts.source(default: manifest.countsSource)
        let query = try ModelInputs(adata, whole: loaded.whole, file: input, manifest: manifest, source: source)

        // The reference: its own file (then stacked under the query's rows) or some of the query's cells.
        let set: ScoringSet
        let referenceName: String
        var referenceCounts: CSRMatrix?
        if let referenceBatch {
            guard let b = query.categories[0].firstIndex(of: referenceBatch) else {
                throw ValidationError("\(input): no cells of batch '\(referenceBatch)' in obs '\(manifest.covariates[0].key)'")
            }
            set = ScoringSet(query: query, referenceRows: query.codes[0].indices.filter { query.codes[0][$0] == Int32(b) })
            referenceName = "batch \(referenceBatch) of \(input)"
        } else {
            let file = reference ?? manifest.trainingFile
            guard FileManager.default.fileExists(atPath: file) else {
                throw InputError(.notFound, file: file, "the reference file is not there (the model's held-out cells live in its training file); give --reference or --reference-batch")
            }
            let refData = try Log.timed("reading \(file)") { try LoadedInput.read(file) }
            let inputs = try ModelInputs(refData.adata, whole: refData.whole, file: file, manifest: manifest, source: source,
                                         knownCategories: query.categories)
            let rows: [Int]
            if reference != nil {
                rows = Array(0..<inputs.counts.rows)
                referenceName = "every cell of \(file)"
            } else {
                let wanted = Set(manifest.validationCells)
                rows = refData.adata.obs.index.indices.filter { wanted.contains(refData.adata.obs.index[$0]) }
                referenceName = "the \(rows.count) cells train held out, from \(file)"
            }
            set = try ScoringSet(query: query, reference: inputs, referenceRows: rows, modelCategoryCounts: manifest.configuration.categoryCounts)
            referenceCounts = inputs.counts
        }

        let (queryScores, referenceScores): ([AnomalyScorer.CellScore], [AnomalyScorer.CellScore])
        var referenceRNAAlone: [AnomalyScorer.CellScore]?
        switch method {
        case .model:
            let vae = try mapping.model(manifest, tensors: tensors, categories: set.categories, data: set.data, capacity: 1024, threads: threads)
            var scorer = AnomalyScorer(model: vae, data: set.data)
            scorer.statistic = statistic
            scorer.topGenes = topGenes
            scorer.clip = clip > 0 ? clip : nil
            (queryScores, referenceScores) = Log.timed("scoring \(set.queryRows.count) + \(set.referenceRows.count) reference cells") {
                (scorer.score(set.queryRows), scorer.score(set.referenceRows))
            }
            referenceRNAAlone = scorer.rnaAlone(referenceScores, of: set.referenceRows)
        case .analytic:
            // Each file's residuals from its own totals, as scanpy computes them per dataset.
            let q = try analyticScores(query.counts, rows: set.queryRows)
            let r = try referenceCounts.map { try analyticScores($0, rows: set.referenceRows.map { $0 - query.counts.rows }) }
            (queryScores, referenceScores) = (q, r ?? set.referenceRows.map { q[$0] })
        }

        // A reference the user names must be able to flag cells; the cells train held out are
        // what there is (a small data set holds out few), so those only warn.
        let named = reference != nil || referenceBatch != nil
        let calibration = try ModalityCalibration(reference: referenceScores, rnaAlone: referenceRNAAlone, alpha: alpha, requireFlaggable: named)
        let calibrated = queryScores.map(calibration.calibrate)
        let scores = calibrated.map(\.score), p = calibrated.map(\.pValue), q = AnomalyCalibration.benjaminiHochberg(p)
        let flags = q.map { $0 <= alpha }, flagged = flags.filter { $0 }.count
        let withProtein = calibrated.filter { $0.basis == .rnaAndProtein }.count
        Log.info("\(flagged) of \(scores.count) cells flagged at q <= \(alpha) against \(referenceName)"
                 + (withProtein > 0 ? "; \(withProtein) scored on RNA + protein against the \(calibration.referenceCount.withProtein) reference cells with protein" : ""))
        // Benjamini-Hochberg flags k cells only if k of them have p <= alpha k / m; p is at least 1 / (n + 1).
        let floorP = 1 / Double(referenceScores.count + 1), fewest = Int((floorP * Double(scores.count) / alpha).rounded(.up))
        if referenceScores.count < AnomalyCalibration.flaggableReferenceSize(alpha: alpha) {
            Log.info("warning: only \(referenceScores.count) reference cells (\(referenceName)): the smallest p-value is "
                        + "\(String(format: "%.2g", floorP)), so no cell can be flagged at q <= \(alpha); the scores and p-values are written "
                        + "(train with a smaller --train-size, or give --reference, for a reference of at least "
                        + "\(AnomalyCalibration.flaggableReferenceSize(alpha: alpha)) cells)")
        } else if flagged == 0 && fewest > 1 {
            Log.info("note: with \(referenceScores.count) reference cells the smallest p-value is \(String(format: "%.2g", floorP)); "
                     + "no cell can be flagged unless at least \(fewest) cells score above every reference cell (a larger reference lowers this)")
        }
        try adata.obs.setColumn("anomaly_score", .numeric(NumericArray(floats: scores)))
        try adata.obs.setColumn("anomaly_z", .numeric(NumericArray(floats: calibrated.map(\.z))))
        try adata.obs.setColumn("anomaly_pvalue", .numeric(NumericArray(floats: p)))
        try adata.obs.setColumn("anomaly_qvalue", .numeric(NumericArray(floats: q)))
        try adata.obs.setColumn("anomaly_flag", .booleans(flags))
        if manifest.modalities != nil { try adata.obs.setColumn("anomaly_modalities", .categorical(labels: calibrated.map(\.basis.rawValue))) }
        Provenance.record(&adata, parameters: [("model", .string(model)), ("method", .string(method.rawValue)),
                                               ("alpha", .number(alpha)), ("reference_cells", .number(Double(set.referenceRows.count)))])
        try Log.timed("writing \(output)") { try LoadedInput(adata: adata, whole: loaded.whole).write(to: output, compression: compression.hdf5) }

        let genes = manifest.geneNames, proteins = manifest.modalities?.first { $0.kind == .protein }?.features ?? []
        let topText = queryScores.map { s in
            (s.rna.topGenes.map { "\(genes[$0.gene]):\(String(format: "%+.2f", $0.residual))" }
                + (s.protein?.topGenes.prefix(3).map { "\(proteins[$0.gene]):\(String(format: "%+.2f", $0.residual))" } ?? []))
                .joined(separator: ",")
        }
        let samples = query.codes[0].map { query.categories[0][Int($0)] }
        if let tsv {
            // The modalities column appears for models of several modalities only; top_genes lists proteins too.
            let multimodal = manifest.modalities != nil
            var text = "cell\tsample\tanomaly_score\tanomaly_z\tanomaly_pvalue\tanomaly_qvalue\tanomaly_flag\t\(multimodal ? "modalities\t" : "")top_genes\n"
            for i in scores.indices {
                text += "\(adata.obs.index[i])\t\(samples[i])\t\(scores[i])\t\(calibrated[i].z)\t\(p[i])\t\(q[i])\t\(flags[i])\t"
                    + (multimodal ? "\(calibrated[i].basis.rawValue)\t" : "") + "\(topText[i])\n"
            }
            try TSVWriter.write(text, to: tsv)
        }
        if let report {
            let order = scores.indices.sorted { scores[$0] > scores[$1] }.prefix(25)
            let bySample = query.categories[0].enumerated().compactMap { b, name -> (sample: String, scores: [Double], flagged: Int)? in
                let cells = scores.indices.filter { query.codes[0][$0] == Int32(b) }
                return cells.isEmpty ? nil : (name, cells.map { scores[$0] }, cells.filter { flags[$0] }.count)
            }
            let bases = Dictionary(grouping: calibrated, by: \.basis).map { "\($0.value.count) cells on \($0.key.rawValue)" }.sorted()
            let page = AnomalyReport(title: "CellWeave anomaly scores: \((input as NSString).lastPathComponent)",
                                     method: "\(method.rawValue) Pearson residuals, \(statistic.rawValue); reference: \(referenceName); "
                                         + bases.joined(separator: ", "),
                                     alpha: alpha, referenceScores: referenceScores.map(\.rna.score), sampleScores: bySample,
                                     topCells: order.map { .init(name: adata.obs.index[$0], sample: samples[$0], score: scores[$0], qValue: q[$0], topGenes: topText[$0]) })
            try AtomicFile.write(Data(page.html().utf8), to: report)
        }
    }

    /// Analytic residuals of the genes with counts in this file (the others have mu = 0 and no
    /// residual), averaged over all the model's genes so that scores compare across files.
    private func analyticScores(_ all: CSRMatrix, rows: [Int]) throws -> [AnomalyScorer.CellScore] {
        let totals = all.columnSums(), expressed = totals.indices.filter { totals[$0] > 0 }
        let counts = try all.selectingColumns(expressed)
        let residuals = try PearsonResiduals(counts: counts, requireIntegers: false)
        var buffer = [Double](repeating: 0, count: counts.cols), full = [Double](repeating: 0, count: all.cols)
        return rows.map { r in
            buffer.withUnsafeMutableBufferPointer { residuals.fill(counts, rows: r..<(r + 1), into: $0) }
            for (k, j) in expressed.enumerated() { full[j] = buffer[k] }
            return AnomalyScorer.CellScore(rna: full.withUnsafeBufferPointer { ResidualSummary(residuals: $0, top: topGenes) }, protein: nil)
        }
    }
}

enum ScoreMethod: String, ExpressibleByArgument, CaseIterable {
    case model, analytic
}

extension ResidualStatistic: ExpressibleByArgument {}
