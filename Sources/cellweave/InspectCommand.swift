import ArgumentParser
import CellWeaveCore
import CellWeaveIO
import Foundation

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Describe a count matrix: shape, non-zeros, modalities, obs/var columns, counts per cell.")

    @Argument(help: "A 10x matrix directory, 10x .h5, .h5ad or .mtx(.gz).")
    var input: String

    @OptionGroup var inputOptions: InputOptions

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        let kind = try CountMatrixLoader.detect(input)
        var options = inputOptions.loaderOptions
        // Describe the whole file: every feature type unless one is asked for.
        if inputOptions.modality == nil { options.features = .all }
        let adata = try Log.timed("reading \(input)") { try CountMatrixLoader.load(input, options: options) }
        let s = AnnDataSummary(adata)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(s), as: UTF8.self))
            return
        }
        func columns(_ c: [AnnDataSummary.Column]) -> String {
            c.isEmpty ? "none" : c.map { "\($0.name) (\($0.kind))" }.joined(separator: ", ")
        }
        func dist(_ d: AnnDataSummary.Distribution) -> String { "min \(d.min), median \(d.median), max \(d.max)" }
        print("""
        \(input) (\(kind.rawValue))
          cells x features   \(s.nObs) x \(s.nVars)
          X                  \(s.xLayout) \(s.xDtype), \(s.nnz) stored, density \(String(format: "%.4f", s.density))\(s.integerCounts ? ", integer counts" : ", non-integer values")
          counts per cell    \(dist(s.totalCountsPerCell))
          genes per cell     \(dist(s.genesPerCell))
          modalities         \(s.modalities.isEmpty ? "-" : s.modalities.map { "\($0.name) (\($0.features) features)" }.joined(separator: ", "))
          obs columns        \(columns(s.obsColumns))
          var columns        \(columns(s.varColumns))
          layers             \(s.layers.isEmpty ? "none" : s.layers.joined(separator: ", "))
          obsm               \(s.obsm.isEmpty ? "none" : s.obsm.joined(separator: ", "))
          raw                \(s.hasRaw ? "yes" : "no")
        """)
    }
}
