import CellWeaveCore

/// Named float32 tensors and text metadata (JSON) in one HDF5 file: /tensors/NAME with its shape,
/// /metadata/KEY as scalar strings. Readable with h5py; written atomically.
public enum TensorArchive {
    public static func write(_ tensors: [NamedTensor], metadata: [(key: String, text: String)], to path: String) throws {
        try AtomicFile.write(to: path) { temporary in
            let file = try HDF5File.create(temporary)
            let group = try file.createGroup("tensors")
            for t in tensors { _ = try group.writeDataset(t.name, floats: t.values, dims: t.shape) }
            let meta = try file.createGroup("metadata")
            for m in metadata { _ = try meta.writeScalar(m.key, string: m.text) }
            try file.flush()
        }
    }

    public static func read(_ path: String) throws -> (tensors: [NamedTensor], metadata: [String: String]) {
        let file = try HDF5File.open(path)
        let group = try file.group("tensors")
        var tensors: [NamedTensor] = []
        for name in try group.childNames() {
            let d = try group.dataset(name)
            let values = try d.readFloats()
            let shape = d.shape.isEmpty ? [values.count] : d.shape
            guard shape.reduce(1, *) == values.count else { throw InputError(.value, file: path, .hdf5Path("/tensors/\(name)"), "shape and size differ") }
            tensors.append(NamedTensor(name: name, shape: shape, values: values))
        }
        var metadata: [String: String] = [:]
        if file.contains("metadata") {
            let meta = try file.group("metadata")
            for key in try meta.childNames() { metadata[key] = try meta.dataset(key).readStrings().first ?? "" }
        }
        return (tensors, metadata)
    }
}
