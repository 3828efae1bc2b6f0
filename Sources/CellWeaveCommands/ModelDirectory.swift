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
        do {
            return (try JSONDecoder().decode(ModelManifest.self, from: Data(text.utf8)), archive.tensors)
        } catch {
            throw InputError(.value, file: model, .hdf5Path("/metadata/manifest"), "unreadable model manifest: \(error)")
        }
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
