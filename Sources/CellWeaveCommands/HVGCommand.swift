import ArgumentParser
import CellWeaveCore
import CellWeaveIO
import CellWeavePreprocess

struct HVGCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hvg",
        abstract: "Mark highly variable genes in var (highly_variable and scanpy's ranking statistics), batch-aware.")

    @OptionGroup var stage: StageArguments
    @OptionGroup var countsCheck: CountsCheck
    @Option(help: "How many genes to select.") var nTopGenes = 2000
    @Option(help: "obs column naming each cell's batch: genes are ranked within each batch, then merged as scanpy does.")
    var batchKey: String?
    @Option(help: "pearson_residuals (Lause et al. 2021) or seurat_v3 (Stuart et al. 2019).") var flavor: HVGFlavor = .pearsonResiduals
    @Option(help: "Inverse overdispersion for pearson_residuals.") var theta: Double = 100
    @Option(help: "LOESS span for seurat_v3.") var span: Double = 0.3
    @Flag(help: "Keep only the selected genes.") var subset = false
    @Option(help: "Stream X from the .h5ad on disk in blocks that fit this much memory (e.g. 1G), two or three passes; the genes and statistics are the same as without it (not with --subset). Without it, hvg streams by itself (where it can) when the counts would not fit in the memory free.")
    var maxMemory: String?

    func validate() throws {
        try StreamingBudget.validate(maxMemory)
        if maxMemory != nil {
            guard !subset else { throw ValidationError("--max-memory adds var columns to the file as it is: not with --subset.") }
        }
    }

    func run() throws {
        // Reading whole holds the counts, and each block's CSC copy.
        if let budget = try StreamingBudget.choose(maxMemory, file: stage.input, matrix: "X", peak: 2.5,
                                                   canStream: !subset && stage.inputOptions.layer == nil && !stage.inputOptions.raw) {
            return try runStreamed(budget: budget)
        }
        let input = try stage.load()
        var adata = input.adata
        let batches = try batchKey.map { try CovariateColumns.labels(adata, key: $0, file: stage.input).codes }
        let counts = adata.x.toCSR()
        try countsCheck.check(counts, input: stage.input)
        let hvg = try select(blocks: CountBlocks(counts), cells: counts.rows, genes: counts.cols, batches: batches)
        for (name, values) in columns(hvg) { try adata.varTable.setColumn(name, values) }
        adata.uns.removeAll { $0.name == "hvg" }
        adata.uns.append(("hvg", unsEntry))
        Provenance.record(&adata, parameters: [])
        if subset {
            adata = try adata.selecting(cells: Array(0..<adata.nObs), genes: hvg.highlyVariable.indices.filter { hvg.highlyVariable[$0] })
        }
        try stage.write(adata, into: input.whole)
    }

    /// X read block by block for each pass; the output is the input, linked or copied as stored,
    /// with the var columns and uns entries added.
    private func runStreamed(budget: UInt64) throws {
        let file = stage.input
        guard stage.inputOptions.layer == nil, !stage.inputOptions.raw else { throw ValidationError("hvg --max-memory streams X") }
        let counts = try CheckedRowStream(file: file, matrix: "/X", check: countsCheck), stream = counts.stream
        // Of obs, the batch column alone, as streamed training reads it.
        let (obs, varTable) = try Log.timed("reading the obs columns and the var of \(file)") {
            (try ObsColumns(path: file, reading: batchKey.map { [$0] } ?? []), try H5adReader.readVarTable(path: file))
        }
        let batches = try batchKey.map { try CovariateColumns.labels(obs[$0], key: $0, columns: obs.columnNames, file: file).codes }
        try counts.requireShape(cells: obs.cells, genes: varTable.rowCount)
        let blockRows = stream.blockRows(within: budget)
        Log.info("streaming \(stream.rows) cells from /X in blocks of \(blockRows)")
        let hvg = try Log.timed("highly variable genes of \(stream.rows) cells") {
            try select(blocks: CountBlocks(streaming: { body in
                for first in stride(from: 0, to: stream.rows, by: blockRows) { try body(try counts.rows(first..<min(first + blockRows, stream.rows)), first) }
            }), cells: stream.rows, genes: stream.cols, batches: batches)
        }
        var uns: [(name: String, value: UnsValue)] = [("hvg", unsEntry)]
        Provenance.record(&uns, parameters: [("max_memory", .string(MemoryLimit.describe(budget)))])
        try Log.timed("writing \(stage.output)") {
            try H5adAdditionWriter.write(to: stage.output, from: file, var: columns(hvg), uns: uns,
                                         linkUnchanged: stage.link.linkUnchanged, compression: stage.compression.hdf5)
        }
    }

    private func select(blocks: CountBlocks, cells: Int, genes: Int, batches: [Int]?) throws -> HighlyVariableGenes {
        // As scanpy: asking for more genes than there are takes them all (a targeted panel, a strict
        // gene filter), and says so.
        let top = min(nTopGenes, genes)
        if top < nTopGenes { Log.info("warning: \(nTopGenes) top genes requested but \(stage.input) has \(genes) genes: taking every gene") }
        switch flavor {
        case .pearsonResiduals:
            return try HighlyVariableGenes.pearsonResiduals(blocks: blocks, cells: cells, genes: genes, batches: batches, nTopGenes: top, theta: theta)
        case .seuratV3:
            return try HighlyVariableGenes.seuratV3(blocks: blocks, cells: cells, genes: genes, batches: batches, nTopGenes: top, span: span)
        }
    }

    private var unsEntry: UnsValue {
        .dict([("flavor", .string(flavor.rawValue))] + (flavor == .pearsonResiduals ? [("computed_on", .string("adata.X"))] : []))
    }

    /// The columns and names scanpy writes for each flavour.
    private func columns(_ hvg: HighlyVariableGenes) -> [(name: String, values: ColumnValues)] {
        var columns: [(name: String, values: ColumnValues)] = [
            ("means", .numeric(NumericArray(floats: hvg.means))),
            ("variances", .numeric(NumericArray(floats: hvg.variances))),
            (flavor == .seuratV3 ? "variances_norm" : "residual_variances", .numeric(NumericArray(floats: hvg.statistic))),
            ("highly_variable_rank", .numeric(NumericArray(floats: hvg.rank, scalarType: .float32))),
        ]
        if batchKey != nil {
            columns.append(("highly_variable_nbatches", .numeric(NumericArray(integers: hvg.nBatches.map(Int64.init)))))
            if flavor == .pearsonResiduals { columns.append(("highly_variable_intersection", .booleans(hvg.intersection))) }
        }
        columns.append(("highly_variable", .booleans(hvg.highlyVariable)))
        return columns
    }
}

enum HVGFlavor: String, ExpressibleByArgument, CaseIterable {
    case pearsonResiduals = "pearson_residuals"
    case seuratV3 = "seurat_v3"
}
