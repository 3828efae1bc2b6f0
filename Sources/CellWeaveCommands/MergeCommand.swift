import ArgumentParser
import CellWeaveCore
import CellWeaveIO
import CellWeavePreprocess
import Foundation

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Concatenate samples into one .h5ad or .h5mu, the sample as a categorical obs column.",
        discussion: "Each modality is joined on its own features: genes as --join says, proteins among the samples that have a panel. Cells of a sample without a modality lack it in the result (they are not given zeros), whatever --join says.")

    @Argument(help: "Samples (.h5ad from cellweave qc, or any supported input).") var inputs: [String]
    @Option(name: .shortAndLong, help: "The merged .h5ad (protein in obsm protein_expression), or .h5mu.") var output: String
    @Option(help: "obs column that names each cell's sample.") var batchKey = "sample"
    @Option(help: "inner: genes shared by all samples; outer: all genes, zeros where a sample lacks one.")
    var join: JoinChoice = .inner
    @OptionGroup var mask: ModalityMaskOption
    @OptionGroup var compression: CompressionOption

    func run() throws {
        var samples: [(name: String, data: MuData)] = []
        for path in inputs {
            var modalities = CountMatrixLoader.ModalityOptions()
            modalities.masks = try mask.masks()
            let mdata = try CountMatrixLoader.loadMuData(path, modalities: modalities)
            if let m = mdata.modalities.first(where: { !$0.data.hasX }) {
                throw InputError(.missingObject, file: path, .hdf5Path(mdata.modalities.count > 1 ? "/mod/\(m.name)/X" : "/X"),
                                 "no X (anndata's X = None): merge joins counts; convert the sample with --layer NAME or --raw first")
            }
            samples.append((sampleName(mdata.obs, path: path), mdata))
        }
        var merged = try SampleMerger.merge(samples, join: join == .inner ? .inner : .outer, batchKey: batchKey)
        Provenance.record(&merged.uns, parameters: [])
        try MuDataFileWriter.write(merged, to: output, compression: compression.hdf5)
        let genes = try merged.primaryView().nVars
        let others = merged.modalities.filter { $0.kind != .rna }.map { "\($0.name): \($0.data.nVars) features in \($0.cells.count) cells" }
        Log.info("\(output): \(merged.nObs) cells from \(samples.count) samples, \(genes) genes (\(join.rawValue) join)"
                 + (others.isEmpty ? "" : "; " + others.joined(separator: "; ")))
    }

    /// The sample named in the file (qc's single-valued obs column), else the file name.
    func sampleName(_ obs: DataFrame, path: String) -> String {
        if case let .categorical(_, .strings(names), _)? = obs[batchKey], names.count == 1 { return names[0] }
        var name = (path as NSString).lastPathComponent
        for suffix in [".gz", ".h5ad", ".h5mu", ".h5", ".mtx"] where name.hasSuffix(suffix) { name = String(name.dropLast(suffix.count)) }
        return name
    }
}

enum JoinChoice: String, ExpressibleByArgument, CaseIterable {
    case inner, outer
}
