import ArgumentParser
import CellWeaveCore
import CellWeaveIO
import CellWeavePreprocess
import Foundation

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Concatenate samples into one .h5ad, the sample as a categorical obs column.")

    @Argument(help: "Samples (.h5ad from cellweave qc, or any supported input).") var inputs: [String]
    @Option(name: .shortAndLong, help: "The merged .h5ad.") var output: String
    @Option(help: "obs column that names each cell's sample.") var batchKey = "sample"
    @Option(help: "inner: genes shared by all samples; outer: all genes, zeros where a sample lacks one.")
    var join: JoinChoice = .inner

    func run() throws {
        var samples: [(name: String, data: AnnData)] = []
        for path in inputs {
            let adata = try CountMatrixLoader.load(path)
            samples.append((sampleName(adata, path: path), adata))
        }
        var merged = try SampleMerger.merge(samples, join: join == .inner ? .inner : .outer, batchKey: batchKey)
        Provenance.record(&merged, parameters: [])
        try H5adWriter.write(merged, to: output)
        Log.info("\(output): \(merged.nObs) cells from \(samples.count) samples, \(merged.nVars) genes (\(join.rawValue) join)")
    }

    /// The sample named in the file (qc's single-valued obs column), else the file name.
    func sampleName(_ adata: AnnData, path: String) -> String {
        if case let .categorical(_, .strings(names), _)? = adata.obs[batchKey], names.count == 1 { return names[0] }
        var name = (path as NSString).lastPathComponent
        for suffix in [".gz", ".h5ad", ".h5", ".mtx"] where name.hasSuffix(suffix) { name = String(name.dropLast(suffix.count)) }
        return name
    }
}

enum JoinChoice: String, ExpressibleByArgument, CaseIterable {
    case inner, outer
}
