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

    func validate() throws {
        if reference != nil && referenceBatch != nil { throw ValidationError("--reference and --reference-batch exclude each other.") }
        guard alpha > 0, alpha < 1 else { throw ValidationError("--alpha must be in (0, 1).") }
        guard topGenes >= 0, threads >= 1 else { throw ValidationError("--top-genes must be >= 0 and --threads >= 1.") }
    }

    func run() throws {
        BLAS.threadCount = 1
        let (manifest, tensors) = try ModelDirectory(path: model).load()
        var adata = try Log.timed("reading \(input)") { try CountMatrixLoader.load(input) }
        let source = counts.source(default: manifest.countsSource)
        let query = try ModelInputs(adata, file: input, manifest: manifest, source: source)

        // The reference: its own file (then stacked under the query's rows) or some of the query's cells.
        var referenceInputs: ModelInputs?
        var referenceRows: [Int]
        var referenceName: String
        if let referenceBatch {
            guard let b = query.categories[0].firstIndex(of: referenceBatch) else {
                throw ValidationError("\(input): no cells of batch '\(referenceBatch)' in obs '\(manifest.covariates[0].key)'")
            }
            referenceRows = query.codes[0].indices.filter { query.codes[0][$0] == Int32(b) }
            referenceName = "batch \(referenceBatch) of \(input)"
        } else {
            let file = reference ?? manifest.trainingFile
            guard FileManager.default.fileExists(atPath: file) else {
                throw InputError(.notFound, file: file, "the reference file is not there (the model's held-out cells live in its training file); give --reference or --reference-batch")
            }
            let refData = try Log.timed("reading \(file)") { try CountMatrixLoader.load(file) }
            let inputs = try ModelInputs(refData, file: file, manifest: manifest, source: source, knownCategories: query.categories)
            if reference != nil {
                referenceRows = Array(0..<inputs.counts.rows)
                referenceName = "every cell of \(file)"
            } else {
                let wanted = Set(manifest.validationCells)
                referenceRows = refData.obs.index.indices.filter { wanted.contains(refData.obs.index[$0]) }
                referenceName = "the \(referenceRows.count) cells train held out, from \(file)"
            }
            referenceInputs = inputs
        }
        var categories = referenceInputs?.categories ?? query.categories
        let combined = try stack(query.counts, referenceInputs?.counts)
        var codes = (0..<categories.count).map { k in query.codes[k] + (referenceInputs?.codes[k] ?? []) }
        let queryRows = Array(0..<query.counts.rows)
        if referenceInputs != nil { referenceRows = referenceRows.map { $0 + query.counts.rows } }
        if method == .model, query.categoryCounts != manifest.configuration.categoryCounts, referenceInputs != nil {
            // A mapped batch's weights are fitted on its own cells, which lowers its residuals a
            // little. The reference cells go through the same mapping, their batches as new
            // categories, so that their scores stay exchangeable with the query's.
            var pseudo: [Int32: Int32] = [:]
            for r in referenceRows {
                let b = codes[0][r]
                if pseudo[b] == nil {
                    pseudo[b] = Int32(categories[0].count)
                    categories[0].append("reference:" + categories[0][Int(b)])
                }
                codes[0][r] = pseudo[b]!
            }
        }
        let data = TrainingData(counts: combined, codes: codes, categoryCounts: categories.map(\.count))

        let (queryScores, referenceScores): ([ResidualSummary], [ResidualSummary])
        switch method {
        case .model:
            let vae = try mapping.model(manifest, tensors: tensors, categories: categories, data: data, capacity: 1024, threads: threads)
            var scorer = AnomalyScorer(model: vae, data: data)
            scorer.statistic = statistic
            scorer.topGenes = topGenes
            scorer.clip = clip > 0 ? clip : nil
            (queryScores, referenceScores) = Log.timed("scoring \(queryRows.count) + \(referenceRows.count) reference cells") {
                (scorer.score(queryRows), scorer.score(referenceRows))
            }
        case .analytic:
            // Each file's residuals from its own totals, as scanpy computes them per dataset.
            let q = try analyticScores(query.counts, rows: queryRows)
            let r = try referenceInputs.map { try analyticScores($0.counts, rows: referenceRows.map { $0 - query.counts.rows }) }
            (queryScores, referenceScores) = (q, r ?? referenceRows.map { q[$0] })
        }

        let calibration = try AnomalyCalibration(reference: referenceScores.map(\.score), alpha: alpha)
        let scores = queryScores.map(\.score)
        let p = scores.map(calibration.pValue), q = AnomalyCalibration.benjaminiHochberg(p)
        let flags = q.map { $0 <= alpha }, flagged = flags.filter { $0 }.count
        Log.info("\(flagged) of \(scores.count) cells flagged at q <= \(alpha) against \(referenceName)")
        // Benjamini-Hochberg flags k cells only if k of them have p <= alpha k / m; p is at least 1 / (n + 1).
        let floorP = 1 / Double(referenceScores.count + 1), fewest = Int((floorP * Double(scores.count) / alpha).rounded(.up))
        if flagged == 0 && fewest > 1 {
            Log.info("note: with \(referenceScores.count) reference cells the smallest p-value is \(String(format: "%.2g", floorP)); "
                     + "no cell can be flagged unless at least \(fewest) cells score above every reference cell (a larger reference lowers this)")
        }
        try adata.obs.setColumn("anomaly_score", .numeric(NumericArray(floats: scores)))
        try adata.obs.setColumn("anomaly_z", .numeric(NumericArray(floats: scores.map(calibration.z))))
        try adata.obs.setColumn("anomaly_pvalue", .numeric(NumericArray(floats: p)))
        try adata.obs.setColumn("anomaly_qvalue", .numeric(NumericArray(floats: q)))
        try adata.obs.setColumn("anomaly_flag", .booleans(flags))
        Provenance.record(&adata, parameters: [("model", .string(model)), ("method", .string(method.rawValue)),
                                               ("alpha", .number(alpha)), ("reference_cells", .number(Double(referenceRows.count)))])
        try Log.timed("writing \(output)") { try H5adWriter.write(adata, to: output) }

        let genes = manifest.geneNames
        let topText = queryScores.map { s in s.topGenes.map { "\(genes[$0.gene]):\(String(format: "%+.2f", $0.residual))" }.joined(separator: ",") }
        let samples = query.codes[0].map { query.categories[0][Int($0)] }
        if let tsv {
            var text = "cell\tsample\tanomaly_score\tanomaly_z\tanomaly_pvalue\tanomaly_qvalue\tanomaly_flag\ttop_genes\n"
            for i in scores.indices {
                text += "\(adata.obs.index[i])\t\(samples[i])\t\(scores[i])\t\(calibration.z(scores[i]))\t\(p[i])\t\(q[i])\t\(flags[i])\t\(topText[i])\n"
            }
            try TSVWriter.write(text, to: tsv)
        }
        if let report {
            let order = scores.indices.sorted { scores[$0] > scores[$1] }.prefix(25)
            let bySample = query.categories[0].enumerated().compactMap { b, name -> (sample: String, scores: [Double], flagged: Int)? in
                let cells = scores.indices.filter { query.codes[0][$0] == Int32(b) }
                return cells.isEmpty ? nil : (name, cells.map { scores[$0] }, cells.filter { flags[$0] }.count)
            }
            let page = AnomalyReport(title: "CellWeave anomaly scores: \((input as NSString).lastPathComponent)",
                                     method: "\(method.rawValue) Pearson residuals, \(statistic.rawValue); reference: \(referenceName)",
                                     alpha: alpha, referenceScores: referenceScores.map(\.score), sampleScores: bySample,
                                     topCells: order.map { .init(name: adata.obs.index[$0], sample: samples[$0], score: scores[$0], qValue: q[$0], topGenes: topText[$0]) })
            try AtomicFile.write(Data(page.html().utf8), to: report)
        }
    }

    /// Analytic residuals of the genes with counts in this file (the others have mu = 0 and no
    /// residual), averaged over all the model's genes so that scores compare across files.
    private func analyticScores(_ all: CSRMatrix, rows: [Int]) throws -> [ResidualSummary] {
        let totals = all.columnSums(), expressed = totals.indices.filter { totals[$0] > 0 }
        let counts = try all.selectingColumns(expressed)
        let residuals = try PearsonResiduals(counts: counts, requireIntegers: false)
        var buffer = [Double](repeating: 0, count: counts.cols), full = [Double](repeating: 0, count: all.cols)
        return rows.map { r in
            buffer.withUnsafeMutableBufferPointer { residuals.fill(counts, rows: r..<(r + 1), into: $0) }
            for (k, j) in expressed.enumerated() { full[j] = buffer[k] }
            return full.withUnsafeBufferPointer { ResidualSummary(residuals: $0, top: topGenes) }
        }
    }

    /// The query's rows, then the reference file's.
    private func stack(_ a: CSRMatrix, _ b: CSRMatrix?) throws -> CSRMatrix {
        guard let b else { return a }
        let offset = a.nnz
        return try CSRMatrix(rows: a.rows + b.rows, cols: a.cols, indptr: a.indptr + b.indptr.dropFirst().map { $0 + offset },
                             indices: a.indices + b.indices, values: a.values + b.values)
    }
}

enum ScoreMethod: String, ExpressibleByArgument, CaseIterable {
    case model, analytic
}

extension ResidualStatistic: ExpressibleByArgument {}
