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

    func run() throws {
        let input = try stage.load()
        var adata = input.adata
        let batches = try batchKey.map { try CovariateColumns.labels(adata, key: $0, file: stage.input).codes }
        let counts = adata.x.toCSR()
        try countsCheck.check(counts, input: stage.input)
        // As scanpy: asking for more genes than there are takes them all (a targeted panel, a strict
        // gene filter), and says so.
        let top = min(nTopGenes, counts.cols)
        if top < nTopGenes { Log.info("warning: \(nTopGenes) top genes requested but \(stage.input) has \(counts.cols) genes: taking every gene") }
        let hvg: HighlyVariableGenes
        switch flavor {
        case .pearsonResiduals:
            hvg = try HighlyVariableGenes.pearsonResiduals(counts: counts, batches: batches, nTopGenes: top, theta: theta)
        case .seuratV3:
            hvg = try HighlyVariableGenes.seuratV3(counts: counts, batches: batches, nTopGenes: top, span: span)
        }
        // The columns and names scanpy writes for each flavour.
        var columns: [(String, ColumnValues)] = [
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
        for (name, values) in columns { try adata.varTable.setColumn(name, values) }
        adata.uns.removeAll { $0.name == "hvg" }
        adata.uns.append(("hvg", .dict([("flavor", .string(flavor.rawValue))]
            + (flavor == .pearsonResiduals ? [("computed_on", .string("adata.X"))] : []))))
        Provenance.record(&adata, parameters: [])
        if subset {
            adata = try adata.selecting(cells: Array(0..<adata.nObs), genes: hvg.highlyVariable.indices.filter { hvg.highlyVariable[$0] })
        }
        try stage.write(adata, into: input.whole)
    }
}

enum HVGFlavor: String, ExpressibleByArgument, CaseIterable {
    case pearsonResiduals = "pearson_residuals"
    case seuratV3 = "seurat_v3"
}
