import ArgumentParser
import CellWeaveCore
import CellWeaveIO
import CellWeavePreprocess

struct PCACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pca",
        abstract: "PCA into obsm X_pca (uns pca, varm PCs), on analytic Pearson residuals of the counts by default: the uncorrected baseline embedding.")

    @OptionGroup var stage: StageArguments
    @OptionGroup var countsCheck: CountsCheck
    @Option(help: "Number of principal components.") var nComps = 50
    @Option(help: "Use this dense layer (e.g. pearson_residuals) as it is, instead of residuals computed from X.")
    var useLayer: String?
    @Option(help: "Inverse overdispersion for the residuals.") var theta: Double = 100
    @Option(help: "Cells densified at a time.") var chunkSize = 2048
    @Option(help: "Stream X from the .h5ad on disk (e.g. 1G), a chunk of cells at a time, three passes: the components and scores are the same as without it (residuals of X only). Without it, pca streams by itself (where it can) when the counts would not fit in the memory free.")
    var maxMemory: String?

    func validate() throws {
        try StreamingBudget.validate(maxMemory)
        if maxMemory != nil {
            guard useLayer == nil else { throw ValidationError("--max-memory computes the residuals of X: not with --use-layer.") }
        }
    }

    /// The components asked for, or as many as the data has (one fewer than its cells, at most
    /// its genes), said in the log: a small sample or panel should not stop a pipeline here.
    func components(rows: Int, cols: Int) -> Int {
        let available = max(1, min(rows - 1, cols))
        if nComps > available { Log.info("warning: \(nComps) components requested but \(stage.input) has \(rows) cells and \(cols) genes: taking \(available)") }
        return min(nComps, available)
    }

    func run() throws {
        // Reading whole holds the counts and the scores; chunks are dense one at a time.
        if let budget = try StreamingBudget.choose(maxMemory, file: stage.input, matrix: "X", peak: 1.5,
                                                   canStream: useLayer == nil && stage.inputOptions.layer == nil && !stage.inputOptions.raw) {
            return try runStreamed(budget: budget)
        }
        let input = try stage.load()
        var adata = input.adata
        let pca: PrincipalComponents
        if let useLayer {
            guard let layer = adata.layer(useLayer) else { throw ValidationError("\(stage.input) has no layer '\(useLayer)'") }
            let cols = layer.cols
            switch layer.layout {
            case let .dense(d):
                pca = try PrincipalComponents(rows: d.rows, cols: cols, components: components(rows: d.rows, cols: cols), chunkSize: chunkSize) { range, out in
                    for i in 0..<(range.count * cols) { out[i] = Double(d.values[range.lowerBound * cols + i]) }
                }
            default:
                let m = layer.toCSR()
                pca = try PrincipalComponents(rows: m.rows, cols: cols, components: components(rows: m.rows, cols: cols), chunkSize: chunkSize) { range, out in
                    for i in 0..<(range.count * cols) { out[i] = 0 }
                    for (i, r) in range.enumerated() {
                        for k in m.indptr[r]..<m.indptr[r + 1] { out[i * cols + Int(m.indices[k])] = Double(m.values[k]) }
                    }
                }
            }
        } else {
            let counts = adata.x.toCSR()
            try countsCheck.check(counts, input: stage.input)
            let residuals = try PearsonResiduals(counts: counts, theta: theta, requireIntegers: false)
            pca = try PrincipalComponents(rows: counts.rows, cols: counts.cols, components: components(rows: counts.rows, cols: counts.cols), chunkSize: chunkSize) { range, out in
                residuals.fill(counts, rows: range, into: out)
            }
        }
        adata.obsm.removeAll { $0.name == "X_pca" }
        adata.obsm.append(("X_pca", .dense(pca.scores)))
        adata.varm.removeAll { $0.name == "PCs" }
        adata.varm.append(("PCs", .dense(pca.loadings)))
        adata.uns.removeAll { $0.name == "pca" }
        adata.uns.append(("pca", unsEntry(pca)))
        Provenance.record(&adata, parameters: [])
        try stage.write(adata, into: input.whole)
    }

    private func unsEntry(_ pca: PrincipalComponents) -> UnsValue {
        .dict([
            ("variance", .numbers(NumericArray(floats: pca.variance))),
            ("variance_ratio", .numbers(NumericArray(floats: pca.varianceRatio))),
            ("params", .dict([("zero_center", .number(1)), ("use_rep", .string(useLayer ?? "pearson_residuals"))])),
        ])
    }

    /// The residuals of X chunk by chunk, X read from disk for each pass (totals, covariance,
    /// scores); the output is the input, linked or copied as stored, with X_pca, PCs and uns pca.
    private func runStreamed(budget: UInt64) throws {
        let file = stage.input
        guard stage.inputOptions.layer == nil, !stage.inputOptions.raw else { throw ValidationError("pca --max-memory streams X") }
        let counts = try CheckedRowStream(file: file, matrix: "/X", check: countsCheck), stream = counts.stream
        // The chunks are those of the in-memory PCA (the same sums, so the same bits): a chunk's
        // counts and its dense residuals, with the scores, are all it holds.
        let chunk = chunkSize
        Log.info("streaming \(stream.rows) cells from /X in chunks of \(chunk)")
        var cellTotals: [Double] = [], geneTotals = [Double](repeating: 0, count: stream.cols)
        for start in stride(from: 0, to: stream.rows, by: chunk) {
            let block = try counts.rows(start..<min(start + chunk, stream.rows))
            cellTotals += block.rowSums()
            block.addColumnSums(into: &geneTotals)
        }
        let residuals = try PearsonResiduals(cellTotals: cellTotals, geneTotals: geneTotals, theta: theta)
        let current = CurrentChunk()
        let pca = try Log.timed("PCA of \(stream.rows) cells") {
            try PrincipalComponents(rows: stream.rows, cols: stream.cols, components: components(rows: stream.rows, cols: stream.cols), chunkSize: chunk,
                                    prepare: { range in current.set(try counts.rows(range), first: range.lowerBound) }) { range, out in
                let (block, first) = current.get()
                residuals.fill(block, rows: (range.lowerBound - first)..<(range.upperBound - first), firstCell: first, into: out)
            }
        }
        var uns: [(name: String, value: UnsValue)] = [("pca", unsEntry(pca))]
        Provenance.record(&uns, parameters: [("max_memory", .string(MemoryLimit.describe(budget)))])
        try Log.timed("writing \(stage.output)") {
            try H5adAdditionWriter.write(to: stage.output, from: file, obsm: [("X_pca", .dense(pca.scores))], varm: [("PCs", .dense(pca.loadings))],
                                         uns: uns, linkUnchanged: stage.link.linkUnchanged, compression: stage.compression.hdf5)
        }
    }
}
