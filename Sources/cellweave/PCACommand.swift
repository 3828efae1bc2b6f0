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

    /// The components asked for, or as many as the data has (one fewer than its cells, at most
    /// its genes), said in the log: a small sample or panel should not stop a pipeline here.
    func components(rows: Int, cols: Int) -> Int {
        let available = max(1, min(rows - 1, cols))
        if nComps > available { Log.info("warning: \(nComps) components requested but \(stage.input) has \(rows) cells and \(cols) genes: taking \(available)") }
        return min(nComps, available)
    }

    func run() throws {
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
        adata.uns.append(("pca", .dict([
            ("variance", .numbers(NumericArray(floats: pca.variance))),
            ("variance_ratio", .numbers(NumericArray(floats: pca.varianceRatio))),
            ("params", .dict([("zero_center", .number(1)), ("use_rep", .string(useLayer ?? "pearson_residuals"))])),
        ])))
        Provenance.record(&adata, parameters: [])
        try stage.write(adata, into: input.whole)
    }
}
