import ArgumentParser
import CellWeaveCore
import CellWeaveIO
import CellWeaveModel
import CellWeavePreprocess
import CellWeaveReport
import Foundation

struct QCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qc",
        abstract: "Per-sample QC: scanpy's metrics, threshold and MAD-outlier filters, JSON metrics and an HTML report.")

    @Option(help: "Sample name, stored as the categorical obs column 'sample'.")
    var sample: String

    @OptionGroup var stage: StageArguments

    @Option(help: "JSON with the sample's QC numbers.")
    var metrics: String?

    @Option(help: "Self-contained HTML report (inline SVG).")
    var report: String?

    @Option(parsing: .upToNextOption, help: "Gene-name prefixes of mitochondrial genes.")
    var mtPrefix: [String] = QCVariable.mitochondrial.prefixes

    @Option(parsing: .upToNextOption, help: "Gene-name prefixes of ribosomal genes.")
    var riboPrefix: [String] = QCVariable.ribosomal.prefixes

    @Option(help: "Per-cell annotations to add to obs as categorical columns: a .tsv (or .csv) with a header, barcodes first, quoted as pandas and R write them (empty or bare NA: missing).")
    var annotations: String?
    @Option(help: "Remove cells with fewer counts.") var minCounts: Double?
    @Option(help: "Remove cells with more counts.") var maxCounts: Double?
    @Option(help: "Remove cells with fewer detected genes.") var minGenes: Double?
    @Option(help: "Remove cells with more detected genes.") var maxGenes: Double?
    @Option(help: "Remove cells with a larger mitochondrial percentage.") var maxPctMt: Double?
    @Option(help: "Remove genes detected in fewer cells.") var minCellsPerGene: Int = 0
    @Option(help: "MADs of log counts and log genes beyond which a cell is an outlier.") var nmads: Double = 5
    @Option(help: "MADs above the median mitochondrial percentage beyond which a cell is an outlier.") var mtNmads: Double = 3
    @Option(help: "Mitochondrial percentage below which no cell is an outlier.") var mtFloor: Double = 8
    @Flag(help: "Apply only the fixed thresholds, no MAD outliers.") var noOutliers = false

    @OptionGroup var countsCheck: CountsCheck

    func run() throws {
        let input = try stage.load()
        var adata = input.adata, whole = input.whole
        let counts = adata.x.toCSR()
        try countsCheck.check(counts, input: stage.input)
        try countsCheck.check(modalities: whole.map { ModalityCounts.modelled(in: $0).map { ($0.modality, $0.counts.counts) } } ?? [], input: stage.input)

        let variables = [QCVariable(name: "mt", prefixes: mtPrefix), QCVariable(name: "ribo", prefixes: riboPrefix)]
        let qc = QCMetrics(counts: counts, geneNames: adata.varTable.index, variables: variables)
        var filter = QCFilter()
        (filter.minCounts, filter.maxCounts, filter.minGenes, filter.maxGenes) = (minCounts, maxCounts, minGenes, maxGenes)
        filter.maxPctMitochondrial = maxPctMt
        filter.minCellsPerGene = minCellsPerGene
        filter.countMADs = noOutliers ? nil : nmads
        filter.mitochondrialMADs = noOutliers ? nil : mtNmads
        filter.mitochondrialFloor = mtFloor
        let result = filter.apply(qc, counts: counts)

        for (name, values) in qc.cells { try adata.obs.setColumn(name, .numeric(NumericArray(floats: values))) }
        try adata.obs.setColumn("sample", .categorical(codes: [Int32](repeating: 0, count: adata.nObs), categories: .strings([sample]), ordered: false))
        if let annotations { try annotate(&adata, from: CellAnnotationTable.read(annotations)) }
        for (name, values) in qc.genes { try adata.varTable.setColumn(name, .numeric(NumericArray(floats: values))) }
        for v in variables { try adata.varTable.setColumn(v.name, .booleans(qc.variableGenes[v.name]!)) }

        var summary = QCSummary(sample: sample, barcodes: adata.obs.index, metrics: qc, filter: filter, result: result)
        let keptCells = result.keepCells.indices.filter { result.keepCells[$0] }
        if var w = whole, let p = w.modalityIndex(.protein) {
            summary.protein = try proteinQC(&w.modalities[p], keep: result.keepCells)
            whole = w
        }
        let keptGenes = result.keepGenes.indices.filter { result.keepGenes[$0] }
        guard !keptCells.isEmpty else {
            let reasons = summary.removedByReason.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
            throw ValidationError("\(stage.input): no cell passes QC (\(reasons)); loosen the thresholds")
        }
        guard !keptGenes.isEmpty else { throw ValidationError("\(stage.input): no gene is detected in \(minCellsPerGene) cells") }
        for lost in adata.carriedElementsLost(selecting: keptCells, genes: keptGenes) {
            Log.info("warning: \(lost) of \(stage.input) is not carried into \(stage.output): it cannot be subset to the cells and genes QC keeps")
        }
        var filtered = try adata.selecting(cells: keptCells, genes: keptGenes)
        Provenance.record(&filtered, parameters: [("qc_verdict", .string(summary.verdict))])

        // The report and the JSON are made before anything is written, so bad input leaves no output.
        let page = report.map { _ in Data(qcReport(summary, qc, result, geneNames: adata.varTable.index, protein: whole?.modality(.protein)).html().utf8) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let json = try encoder.encode(summary)
        try stage.write(filtered, into: whole, keptCells: keptCells)
        if let report, let page { try AtomicFile.write(page, to: report) }
        if let metrics { try AtomicFile.write(json, to: metrics) }
        Log.info("\(sample): \(summary.cellsAfter) of \(summary.cellsBefore) cells and \(summary.genesAfter) of \(summary.genesBefore) genes kept; verdict \(summary.verdict)"
            + (summary.verdictReasons.isEmpty ? "" : " (\(summary.verdictReasons.joined(separator: "; ")))"))
    }
}

extension QCCommand {
    /// The protein modality's metrics into its obs (scanpy's names) and the sample's protein summary.
    func proteinQC(_ protein: inout Modality, keep: [Bool]) throws -> ProteinQC {
        let counts = protein.data.x.toCSR()
        let (total, detected) = ProteinQC.cellMetrics(counts)
        try protein.data.obs.setColumn("total_counts", .numeric(NumericArray(floats: total)))
        try protein.data.obs.setColumn("n_genes_by_counts", .numeric(NumericArray(floats: detected)))
        return ProteinQC(modality: protein.name, counts: counts, proteinNames: protein.data.varTable.index, kept: protein.cells.map { keep[$0] })
    }

    func qcReport(_ s: QCSummary, _ qc: QCMetrics, _ r: QCFilter.Result, geneNames: [String], protein: Modality?) -> QCReport {
        let totals = qc.gene("total_counts")!
        let all = totals.reduce(0, +)
        let top = totals.indices.sorted { totals[$0] > totals[$1] }.prefix(20).map { (geneNames[$0], totals[$0] / max(all, 1) * 100) }
        let zeros = [Double](repeating: 0, count: s.cellsBefore)
        var page = QCReport(sample: s.sample, verdict: s.verdict, verdictReasons: s.verdictReasons, cellsBefore: s.cellsBefore,
                        cellsAfter: s.cellsAfter, genesBefore: s.genesBefore, genesAfter: s.genesAfter, removedByReason: s.removedByReason,
                        totalCounts: qc.cell("total_counts")!, genesDetected: qc.cell("n_genes_by_counts")!,
                        pctMitochondrial: qc.cell("pct_counts_mt") ?? zeros, pctRibosomal: qc.cell("pct_counts_ribo") ?? zeros,
                        pctTop50: qc.cell("pct_counts_in_top_50_genes"), countRange: r.thresholds.totalCounts,
                        geneRange: r.thresholds.genes, mitochondrialLimit: r.thresholds.pctMitochondrial, topGenes: top)
        if let protein, let p = s.protein, case let .numeric(total)? = protein.data.obs["total_counts"],
           case let .numeric(detected)? = protein.data.obs["n_genes_by_counts"] {
            page.protein = QCReport.Protein(proteins: p.proteins, cellsAfter: p.cellsAfter, totalCounts: total.doubles,
                                            proteinsDetected: detected.doubles, topProteins: p.topProteins.map { ($0.name, $0.percent) })
        }
        return page
    }

    /// The table's columns as categorical obs columns; cells it does not list get no category.
    func annotate(_ adata: inout AnnData, from table: CellAnnotationTable) throws {
        let barcodes = adata.obs.index
        let listed = barcodes.filter { table.rows[$0] != nil }.count
        guard listed > 0 else {
            throw ValidationError("\(annotations!): none of its barcodes is a cell of \(stage.input) (its first: '\(table.rows.keys.min() ?? "")'; "
                                  + "the file's: '\(barcodes.first ?? "")')")
        }
        for (c, name) in table.columns.enumerated() {
            try adata.obs.setColumn(name, .categorical(labels: barcodes.map { table.rows[$0]?[c] ?? "" }))
        }
        Log.info("\(annotations!): \(table.columns.joined(separator: ", ")) for \(listed) of \(barcodes.count) cells")
    }
}
