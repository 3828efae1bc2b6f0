import CHDF5
import Foundation
import CellWeaveCore

/// An HDF5 group (or a file's root group): children, sub-groups and datasets.
public class HDF5Group: HDF5Node {
    deinit { H5Gclose(id) }

    public func contains(_ name: String) -> Bool {
        // H5Lexists needs every intermediate link to exist, so walk the path.
        let absolute = name.hasPrefix("/")
        var prefix = ""
        for part in name.split(separator: "/") {
            prefix += prefix.isEmpty && !absolute ? String(part) : "/" + part
            // Under the watchdog: on a damaged symbol table libhdf5 can loop here, allocating as it goes.
            if bounded({ H5Lexists(id, prefix, cw_H5P_DEFAULT()) }) <= 0 { return false }
        }
        return !prefix.isEmpty
    }

    /// Names of the direct children, in name order.
    public func childNames() throws -> [String] {
        var info = H5G_info_t()
        try check(H5Gget_info(id, &info), "list group")
        return try (0..<info.nlinks).map { i in
            let n = H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, cw_H5P_DEFAULT())
            try check(n, "list group")
            var buf = [CChar](repeating: 0, count: Int(n) + 1)
            H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buf, buf.count, cw_H5P_DEFAULT())
            return String(cString: buf)
        }
    }

    public func isGroup(_ name: String) -> Bool { objectType(name) == H5I_GROUP }
    public func isDataset(_ name: String) -> Bool { objectType(name) == H5I_DATASET }

    private func objectType(_ name: String) -> H5I_type_t {
        guard contains(name) else { return H5I_BADID }
        let obj = bounded { H5Oopen(id, name, cw_H5P_DEFAULT()) }
        guard obj >= 0 else { return H5I_BADID }
        defer { H5Oclose(obj) }
        return H5Iget_type(obj)
    }

    public func group(_ name: String) throws -> HDF5Group {
        guard contains(name) else { throw error(.missingObject, "group is missing", at: name) }
        guard isGroup(name) else { throw error(.value, "expected a group, found a dataset", at: name) }
        let g = H5Gopen2(id, name, cw_H5P_DEFAULT())
        try check(g, "open group", at: name)
        return HDF5Group(id: g, file: file, path: childPath(name))
    }

    public func dataset(_ name: String) throws -> HDF5Dataset {
        guard contains(name) else { throw error(.missingObject, "dataset is missing", at: name) }
        guard isDataset(name) else { throw error(.value, "expected a dataset, found a group", at: name) }
        let d = H5Dopen2(id, name, cw_H5P_DEFAULT())
        try check(d, "open dataset", at: name)
        return HDF5Dataset(id: d, file: file, path: childPath(name))
    }

    public func createGroup(_ name: String) throws -> HDF5Group {
        let g = H5Gcreate2(id, name, cw_H5P_DEFAULT(), cw_H5P_DEFAULT(), cw_H5P_DEFAULT())
        try check(g, "create group", at: name)
        return HDF5Group(id: g, file: file, path: childPath(name))
    }

    /// A group tagged as an anndata `dict` (obsm, layers, uns, ...).
    public func createDictGroup(_ name: String) throws -> HDF5Group {
        let g = try createGroup(name)
        try g.setEncoding("dict", version: "0.1.0")
        return g
    }

    // MARK: writing datasets

    /// Writes a numeric dataset of `dims` from native memory of `memType`, stored as `fileType`.
    @discardableResult
    public func writeDataset(_ name: String, dims: [Int], memType: hid_t, fileType: hid_t,
                             compression: HDF5Compression, data: UnsafeRawPointer?) throws -> HDF5Dataset {
        var hdims = dims.map { hsize_t($0) }
        let space = H5Screate_simple(Int32(dims.count), &hdims, nil)
        defer { H5Sclose(space) }
        let plist = H5Pcreate(cw_H5P_DATASET_CREATE())
        defer { H5Pclose(plist) }
        let total = dims.reduce(1, *)
        if total > 0, !dims.isEmpty {
            // Chunked, compressed or not, so that a range of rows reads without the rest: chunks of
            // about 64k elements along the first axis, as h5py's guess does.
            let rowElems = dims.dropFirst().reduce(1, *)
            var chunk = hdims
            chunk[0] = hsize_t(max(1, min(dims[0], (1 << 16) / max(rowElems, 1))))
            H5Pset_chunk(plist, Int32(dims.count), &chunk)
            try setCompression(compression, on: plist, for: name)
        }
        let d = H5Dcreate2(id, name, fileType, space, cw_H5P_DEFAULT(), plist, cw_H5P_DEFAULT())
        try check(d, "create dataset", at: name)
        let ds = HDF5Dataset(id: d, file: file, path: childPath(name))
        if total > 0, let data {
            try check(H5Dwrite(d, memType, cw_H5S_ALL(), cw_H5S_ALL(), cw_H5P_DEFAULT(), data), "write dataset", at: name)
            // Chunks go through the filters when they leave HDF5's cache, at the latest on close,
            // whose errors nobody would see: flush now, so that a failing filter fails the write.
            try check(H5Dflush(d), "write dataset (flushing its chunks)", at: name)
        }
        return ds
    }

    func setCompression(_ compression: HDF5Compression, on plist: hid_t, for name: String) throws {
        switch compression {
        case .none: break
        case let .gzip(level): H5Pset_deflate(plist, UInt32(level))
        case .lzf:
            guard let unavailable = HDF5Filters.unavailableForWriting(HDF5Filters.lzf) else {
                // Optional, as h5py sets it: a chunk LZF cannot shrink is stored as it is.
                H5Pset_filter(plist, H5Z_filter_t(HDF5Filters.lzf), UInt32(H5Z_FLAG_OPTIONAL), 0, nil)
                return
            }
            throw error(.compression, unavailable, at: name)
        }
    }

    /// An empty one-dimensional dataset that grows as values are appended (`HDF5Dataset.append`),
    /// in chunks of 64k elements.
    public func createAppendableDataset(_ name: String, fileType: hid_t, compression: HDF5Compression) throws -> HDF5Dataset {
        var dims = [hsize_t(0)], maxDims = [hsize_t.max], chunk = [hsize_t(1 << 16)]  // hsize_t.max: H5S_UNLIMITED
        let space = H5Screate_simple(1, &dims, &maxDims)
        defer { H5Sclose(space) }
        let plist = H5Pcreate(cw_H5P_DATASET_CREATE())
        defer { H5Pclose(plist) }
        H5Pset_chunk(plist, 1, &chunk)
        try setCompression(compression, on: plist, for: name)
        let d = H5Dcreate2(id, name, fileType, space, cw_H5P_DEFAULT(), plist, cw_H5P_DEFAULT())
        try check(d, "create dataset", at: name)
        return HDF5Dataset(id: d, file: file, path: childPath(name))
    }

    /// A whole array in native memory, stored as `fileType`.
    @discardableResult
    func writeArray<T>(_ name: String, _ values: [T], dims: [Int]? = nil, memType: hid_t, fileType: hid_t,
                       compression: HDF5Compression) throws -> HDF5Dataset {
        try values.withUnsafeBytes {
            try writeDataset(name, dims: dims ?? [values.count], memType: memType, fileType: fileType,
                             compression: compression, data: $0.baseAddress)
        }
    }

    @discardableResult
    public func writeDataset(_ name: String, floats: [Float], dims: [Int]? = nil, as type: ScalarType = .float32,
                             compression: HDF5Compression = .none) throws -> HDF5Dataset {
        try writeArray(name, floats, dims: dims, memType: cw_H5T_NATIVE_FLOAT(), fileType: type.hdf5FileType, compression: compression)
    }

    @discardableResult
    public func writeDataset(_ name: String, doubles: [Double], as type: ScalarType = .float64,
                             compression: HDF5Compression = .none) throws -> HDF5Dataset {
        try writeArray(name, doubles, memType: cw_H5T_NATIVE_DOUBLE(), fileType: type.hdf5FileType, compression: compression)
    }

    @discardableResult
    public func writeDataset(_ name: String, int32s: [Int32], compression: HDF5Compression = .none) throws -> HDF5Dataset {
        try writeArray(name, int32s, memType: cw_H5T_NATIVE_INT32(), fileType: cw_H5T_STD_I32LE(), compression: compression)
    }

    @discardableResult
    public func writeDataset(_ name: String, int64s: [Int64], as type: ScalarType = .int64,
                             compression: HDF5Compression = .none) throws -> HDF5Dataset {
        try writeArray(name, int64s, memType: cw_H5T_NATIVE_INT64(), fileType: type.hdf5FileType, compression: compression)
    }

    @discardableResult
    public func writeDataset(_ name: String, bools: [Bool], dims: [Int]? = nil, compression: HDF5Compression = .none) throws -> HDF5Dataset {
        let type = HDF5Strings.booleanEnum()
        defer { H5Tclose(type) }
        return try writeArray(name, bools.map { Int8($0 ? 1 : 0) }, dims: dims, memType: type, fileType: type, compression: compression)
    }

    /// Variable-length strings, as h5py writes them. Debian's LZF plugin refuses variable-length
    /// types (h5py's built-in LZF takes them), so with LZF strings are stored uncompressed.
    @discardableResult
    public func writeDataset(_ name: String, strings: [String], compression: HDF5Compression = .none) throws -> HDF5Dataset {
        let type = HDF5Strings.variableLengthUTF8()
        defer { H5Tclose(type) }
        return try HDF5Strings.withCStrings(strings) { pointers in
            try writeDataset(name, dims: [strings.count], memType: type, fileType: type, compression: compression == .lzf ? .none : compression,
                             data: pointers)
        }
    }

    /// Deletes a child if present.
    public func remove(_ name: String) throws {
        if contains(name) { try check(H5Ldelete(id, name, cw_H5P_DEFAULT()), "delete", at: name) }
    }

    /// A scalar dataset holding one string (anndata's `string` encoding).
    public func writeScalar(_ name: String, string: String) throws -> HDF5Dataset {
        let type = HDF5Strings.variableLengthUTF8()
        defer { H5Tclose(type) }
        return try writeScalarValue(name, type: type) { ds in
            try HDF5Strings.withCStrings([string]) { p in
                try check(H5Dwrite(ds, type, cw_H5S_ALL(), cw_H5S_ALL(), cw_H5P_DEFAULT(), p), "write", at: name)
            }
        }
    }

    /// A scalar float64 dataset (anndata's `numeric-scalar`).
    public func writeScalar(_ name: String, double: Double) throws -> HDF5Dataset {
        var v = double
        return try writeScalarValue(name, type: cw_H5T_IEEE_F64LE()) { ds in
            try check(H5Dwrite(ds, cw_H5T_NATIVE_DOUBLE(), cw_H5S_ALL(), cw_H5S_ALL(), cw_H5P_DEFAULT(), &v), "write", at: name)
        }
    }

    /// A scalar int64 dataset (anndata's `numeric-scalar`).
    public func writeScalar(_ name: String, int64: Int64) throws -> HDF5Dataset {
        var v = int64
        return try writeScalarValue(name, type: cw_H5T_STD_I64LE()) { ds in
            try check(H5Dwrite(ds, cw_H5T_NATIVE_INT64(), cw_H5S_ALL(), cw_H5S_ALL(), cw_H5P_DEFAULT(), &v), "write", at: name)
        }
    }

    private func writeScalarValue(_ name: String, type: hid_t, _ write: (hid_t) throws -> Void) throws -> HDF5Dataset {
        let space = H5Screate(H5S_SCALAR)
        defer { H5Sclose(space) }
        let d = H5Dcreate2(id, name, type, space, cw_H5P_DEFAULT(), cw_H5P_DEFAULT(), cw_H5P_DEFAULT())
        try check(d, "create dataset", at: name)
        let ds = HDF5Dataset(id: d, file: file, path: childPath(name))
        try write(d)
        return ds
    }

    /// Where child `name` points when it is an external link (a relative file resolved against
    /// this file's directory, as HDF5 resolves it); nil for anything else.
    public func externalLinkTarget(_ name: String) -> (file: String, path: String)? {
        var info = H5L_info_t()
        guard H5Lget_info(id, name, &info, cw_H5P_DEFAULT()) >= 0, info.type == H5L_TYPE_EXTERNAL else { return nil }
        var value = [UInt8](repeating: 0, count: Int(info.u.val_size))
        guard H5Lget_val(id, name, &value, value.count, cw_H5P_DEFAULT()) >= 0 else { return nil }
        var flags: UInt32 = 0
        var targetFile: UnsafePointer<CChar>?, targetPath: UnsafePointer<CChar>?
        guard H5Lunpack_elink_val(value, value.count, &flags, &targetFile, &targetPath) >= 0, let targetFile, let targetPath else { return nil }
        let relative = String(cString: targetFile)
        let directory = (file as NSString).deletingLastPathComponent
        let resolved = relative.hasPrefix("/") || directory.isEmpty ? relative : directory + "/" + relative
        return ((resolved as NSString).standardizingPath, String(cString: targetPath))
    }

    /// Where child `name` is stored, as an origin for writing it again: followed through an
    /// external link, so that links written to it never chain.
    public func origin(of name: String) -> MatrixOrigin {
        let target = externalLinkTarget(name)
        return MatrixOrigin(file: target?.file ?? file, path: target?.path ?? childPath(name))
    }

    /// Whether `target` is the file this one is being written to replace (`AtomicFile`): what is
    /// stored there is copied, never linked to, as the file is about to go.
    public func replaces(_ target: String) -> Bool {
        MatrixOrigin.canonical(target) == MatrixOrigin.canonical(AtomicFile.destination(ofTemporary: file) ?? file)
    }

    /// `path` of `source` as child `name`: with `link`, as an external link to where it is stored
    /// (with `childByChild`, a group of this file whose children are links, so that a stage's own
    /// additions go here, never into the source); else, or when it is stored in the file this one
    /// replaces, copied. Returns whether it was linked.
    @discardableResult
    public func linkOrCopy(_ path: String, from source: HDF5Group, as name: String, link: Bool, childByChild: Bool = false) throws -> Bool {
        let target = source.origin(of: path)
        guard link, !replaces(target.file) else {
            try copy(from: source, path: path, to: name)
            return false
        }
        if childByChild && source.isGroup(path) {
            let from = try source.group(path), g = try createGroup(name)
            if let encoding = from.encodingType {
                try g.setEncoding(encoding, version: (try? from.stringAttributeIfPresent("encoding-version")).flatMap { $0 } ?? "0.1.0")
            }
            // A dataframe's (obs gaining columns) name its index and columns.
            if let index = try from.stringAttributeIfPresent("_index") { try g.setAttribute("_index", string: index) }
            if from.hasAttribute("column-order") { try g.setAttribute("column-order", strings: try from.stringArrayAttribute("column-order")) }
            for child in try from.childNames() { try g.linkOrCopy(child, from: from, as: child, link: true) }
        } else {
            try createExternalLink(name, to: target.file, path: target.path)
        }
        return true
    }

    /// Child `name` as an external link to `path` in `targetFile`, written relative to this file's
    /// directory so that the two can move together.
    public func createExternalLink(_ name: String, to targetFile: String, path: String) throws {
        let from = URL(fileURLWithPath: (file as NSString).deletingLastPathComponent).standardizedFileURL.resolvingSymlinksInPath().pathComponents
        let to = URL(fileURLWithPath: targetFile).standardizedFileURL.resolvingSymlinksInPath().pathComponents
        let common = zip(from, to).prefix { $0 == $1 }.count
        let relative = (Array(repeating: "..", count: from.count - common) + to[common...]).joined(separator: "/")
        try check(H5Lcreate_external(relative, path, id, name, cw_H5P_DEFAULT(), cw_H5P_DEFAULT()), "link \(path) of \(targetFile)", at: name)
    }

    /// Copies an object with everything under it (attributes included) from another file. Object
    /// references inside it (anndata 0.7's categoricals point at `__categories/<name>`) are copied
    /// with their targets and repointed; HDF5 would otherwise write them as null references.
    /// External links inside it are copied as what they point to: a copy stands alone.
    public func copy(from source: HDF5Group, path sourcePath: String, to name: String) throws {
        let options = H5Pcreate(cw_H5P_OBJECT_COPY())
        defer { H5Pclose(options) }
        H5Pset_copy_object(options, cw_H5O_COPY_EXPAND_REFERENCE_FLAG() | cw_H5O_COPY_EXPAND_EXT_LINK_FLAG())
        try check(H5Ocopy(source.id, sourcePath, id, name, options, cw_H5P_DEFAULT()), "copy \(sourcePath) from \(source.file)", at: name)
    }
}

public enum HDF5Compression: Equatable, Sendable {
    case none
    case gzip(level: Int)
    /// h5py's LZF (filter 32000), through Debian's plugin: fast, and read by every h5py.
    case lzf
}

extension ScalarType {
    /// The little-endian HDF5 type numpy/h5py would store this as.
    var hdf5FileType: hid_t {
        switch self {
        case .int8: return cw_H5T_STD_I8LE()
        case .int16: return cw_H5T_STD_I16LE()
        case .int32: return cw_H5T_STD_I32LE()
        case .int64: return cw_H5T_STD_I64LE()
        case .uint8: return cw_H5T_STD_U8LE()
        case .uint16: return cw_H5T_STD_U16LE()
        case .uint32: return cw_H5T_STD_U32LE()
        case .uint64: return cw_H5T_STD_U64LE()
        case .float32: return cw_H5T_IEEE_F32LE()
        case .float64: return cw_H5T_IEEE_F64LE()
        case .bool: return cw_H5T_STD_I8LE()
        }
    }
}
