import CellWeaveCore
import CellWeaveIO
import CellWeaveModel
import Foundation

/// A trained model on disk: model.h5 (weights + manifest, written last: the model exists once it
/// does), config.json (the manifest, for people), history.json, training.html, checkpoint.h5.
struct ModelDirectory {
    let path: String

    var model: String { path + "/model.h5" }
    var config: String { path + "/config.json" }
    var history: String { path + "/history.json" }
    var report: String { path + "/training.html" }
    var checkpoint: String { path + "/checkpoint.h5" }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return e
    }()

    func create() throws {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw OutputError(path: path, message: "cannot create the model directory: \(error.localizedDescription)")
        }
    }

    func save(_ manifest: ModelManifest, tensors: [NamedTensor]) throws {
        let json = try Self.encoder.encode(manifest)
        try AtomicFile.write(json, to: config)
        try TensorArchive.write(tensors, metadata: [("manifest", String(decoding: json, as: UTF8.self))], to: model)
    }

    func load() throws -> (manifest: ModelManifest, tensors: [NamedTensor]) {
        guard FileManager.default.fileExists(atPath: model) else {
            throw InputError(.notFound, file: path, "not a trained model directory: no model.h5 (make one with cellweave train)")
        }
        let archive = try TensorArchive.read(model)
        guard let text = archive.metadata["manifest"] else { throw InputError(.value, file: model, .hdf5Path("/metadata/manifest"), "missing") }
        let manifest: ModelManifest
        do {
            manifest = try JSONDecoder().decode(ModelManifest.self, from: Data(text.utf8))
        } catch {
            throw InputError(.value, file: model, .hdf5Path("/metadata/manifest"), "unreadable model manifest: \(error)")
        }
        if let problem = Self.inconsistency(manifest) {
            throw InputError(.value, file: model, .hdf5Path("/metadata/manifest"), "the manifest contradicts itself: \(problem)")
        }
        return (manifest, archive.tensors)
    }

    /// What in a manifest does not fit its own architecture (the tensors are checked against the
    /// architecture when the model is built): genes, covariate categories, further modalities' features.
    static func inconsistency(_ m: ModelManifest) -> String? {
        let c = m.configuration
        if m.geneIDs.count != c.genes || m.geneNames.count != c.genes {
            return "\(m.geneIDs.count) gene ids and \(m.geneNames.count) gene names for a model of \(c.genes) genes"
        }
        if Set(m.geneIDs).count != m.geneIDs.count { return "a gene id appears twice (genes are matched by id)" }
        if m.covariates.map(\.categories.count) != c.categoryCounts {
            return "covariate categories \(m.covariates.map(\.categories.count)) for a model of \(c.categoryCounts)"
        }
        if let k = m.covariates.first(where: { Set($0.categories).count != $0.categories.count }) {
            return "covariate '\(k.key)' names a category twice"
        }
        let features = (m.modalities ?? []).map(\.features.count), expected = c.extraModalities.map(\.features)
        if features != expected { return "\(features) features of further modalities for a model of \(expected)" }
        return nil
    }

    func saveCheckpoint(_ c: TrainingCheckpoint) throws {
        let state = String(decoding: try Self.encoder.encode(c.state), as: UTF8.self)
        try TensorArchive.write(c.tensors, metadata: [("state", state)], to: checkpoint)
    }

    func loadCheckpoint() throws -> TrainingCheckpoint {
        guard FileManager.default.fileExists(atPath: checkpoint) else {
            throw InputError(.notFound, file: checkpoint, "no checkpoint to resume from")
        }
        let archive = try TensorArchive.read(checkpoint)
        guard let text = archive.metadata["state"] else { throw InputError(.value, file: checkpoint, .hdf5Path("/metadata/state"), "missing") }
        do {
            return TrainingCheckpoint(tensors: archive.tensors, state: try JSONDecoder().decode(TrainingCheckpoint.State.self, from: Data(text.utf8)))
        } catch {
            throw InputError(.value, file: checkpoint, .hdf5Path("/metadata/state"), "unreadable training state: \(error)")
        }
    }
}
