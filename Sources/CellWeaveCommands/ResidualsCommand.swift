import ArgumentParser
import CellWeaveCore
import CellWeaveIO
import CellWeavePreprocess

struct ResidualsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "residuals",
        abstract: "Analytic Pearson residuals (Lause, Berens & Kobak 2021) of the counts into a dense layer.")

    @OptionGroup var stage: StageArguments
    @OptionGroup var countsCheck: CountsCheck
    @Option(help: "Inverse overdispersion of the negative binomial.") var theta: Double = 100
    @Option(help: "Clip residuals to +-clip (default: sqrt of the number of cells).") var clip: Double?
    @Option(help: "Name of the layer to write.") var layerName = "pearson_residuals"

    func run() throws {
        let input = try stage.load()
        var adata = input.adata
        let counts = adata.x.toCSR()
        try countsCheck.check(counts, input: stage.input)
        let residuals = try PearsonResiduals(counts: counts, theta: theta, clip: clip, requireIntegers: false)
        adata.layers.removeAll { $0.name == layerName }
        adata.layers.append((layerName, .dense(residuals.dense(counts))))
        Provenance.record(&adata, parameters: [("pearson_residuals", .dict([
            ("theta", .number(theta)), ("clip", .number(residuals.clip)),
        ]))])
        try stage.write(adata, into: input.whole)
    }
}
