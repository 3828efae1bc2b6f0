import ArgumentParser
import CellWeaveCore
import CellWeaveIO
import Foundation

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Describe a count matrix: shape, non-zeros, modalities, obs/var columns, counts per cell.")

    @Argument(help: "A 10x matrix directory, 10x .h5, .h5ad, .h5mu or .mtx(.gz).")
    var input: String

    @OptionGroup var inputOptions: InputOptions

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        let kind = try CountMatrixLoader.detect(input)
        // Describe the whole file: every modality unless one feature type is asked for.
        let s: AnnDataSummary = try Log.timed("reading \(input)") {
            guard let modalities = inputOptions.modalityOptions else {
                return AnnDataSummary(try CountMatrixLoader.load(input, options: inputOptions.loaderOptions))
            }
            let mdata = try CountMatrixLoader.loadMuData(input, options: inputOptions.loaderOptions, modalities: modalities)
            do { return try AnnDataSummary(mdata) } catch let e as MuData.PrimaryViewError {
                throw InputError(.unsupported, file: input, .hdf5Path("/mod"), e.description)
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(s), as: UTF8.self))
            return
        }
        func columns(_ c: [AnnDataSummary.Column]) -> String {
            c.isEmpty ? "none" : c.map { "\($0.name) (\($0.kind))" }.joined(separator: ", ")
        }
        func describe(_ m: AnnDataSummary.Modality) -> String {
            "\(m.name) (\(m.kind.map { $0 + ", " } ?? "")\(m.features) features\(m.cells.map { ", \($0) of \(s.nObs) cells" } ?? ""))"
        }
        func dist(_ d: AnnDataSummary.Distribution) -> String { "min \(d.min), median \(d.median), max \(d.max)" }
        let x = s.xLayout == AnnDataSummary.absent ? "none (anndata's X = None: counts from --layer or --raw)"
            : "\(s.xLayout) \(s.xDtype), \(s.nnz) stored, density \(String(format: "%.4f", s.density))\(s.integerCounts ? ", integer counts" : ", non-integer values")"
        print("""
        \(input) (\(kind.rawValue))
          cells x features   \(s.nObs) x \(s.nVars)
          X                  \(x)
          counts per cell    \(dist(s.totalCountsPerCell))
          genes per cell     \(dist(s.genesPerCell))
          modalities         \(s.modalities.isEmpty ? "-" : s.modalities.map(describe).joined(separator: ", "))
          obs columns        \(columns(s.obsColumns))
          var columns        \(columns(s.varColumns))
          layers             \(s.layers.isEmpty ? "none" : s.layers.joined(separator: ", "))
          obsm               \(s.obsm.isEmpty ? "none" : s.obsm.joined(separator: ", "))
          raw                \(s.hasRaw ? "yes" : "no")
        """)
    }
}
