import CCrashGuard
import CHDF5
import Foundation
import CellWeaveCore

/// An open HDF5 object (file, group or dataset) with the attribute operations they share.
/// Every failure is reported as an `InputError` naming the file and the HDF5 path.
public class HDF5Node {
    public let id: hid_t
    public let file: String
    public let path: String

    init(id: hid_t, file: String, path: String) {
        self.id = id
        self.file = file
        self.path = path
    }

    func error(_ kind: InputError.Kind, _ message: String, at subpath: String? = nil) -> InputError {
        InputError(kind, file: file, .hdf5Path(subpath.map { childPath($0) } ?? path), message)
    }

    func childPath(_ name: String) -> String {
        name.hasPrefix("/") ? name : path == "/" ? "/" + name : path + "/" + name
    }

    @discardableResult
    func check<T: BinaryInteger>(_ status: T, _ what: String, at subpath: String? = nil) throws -> T {
        if status < 0 { throw error(.hdf5, "HDF5 failed to \(what)", at: subpath) }
        return status
    }

    /// Seconds a read may take before the watchdog calls the file corrupt: generous (a slow disk,
    /// a decompressing filter), since what it catches is libhdf5 looping for ever.
    /// CELLWEAVE_HDF5_READ_TIMEOUT sets the allowance for any read (default 120 s).
    static let readAllowance = ProcessInfo.processInfo.environment["CELLWEAVE_HDF5_READ_TIMEOUT"].flatMap(Double.init) ?? 120

    /// Runs a libhdf5 read of about `bytes` under the watchdog (CCrashGuard).
    func bounded<T>(bytes: Int = 0, _ body: () throws -> T) rethrows -> T {
        cw_watchdog_arm(Self.readAllowance + Double(bytes) / 5e6)
        defer { cw_watchdog_disarm() }
        return try body()
    }

    // MARK: attributes

    public func hasAttribute(_ name: String) -> Bool { H5Aexists(id, name) > 0 }

    func withAttribute<T>(_ name: String, _ body: (hid_t) throws -> T) throws -> T {
        let attr = H5Aopen(id, name, cw_H5P_DEFAULT())
        guard attr >= 0 else { throw error(.missingObject, "attribute '\(name)' is missing") }
        defer { H5Aclose(attr) }
        return try body(attr)
    }

    /// A string attribute (scalar or one-element array, variable or fixed length).
    public func stringAttribute(_ name: String) throws -> String {
        let values = try stringArrayAttribute(name)
        guard values.count == 1 else { throw error(.value, "attribute '\(name)' should hold one string, holds \(values.count)") }
        return values[0]
    }

    public func stringAttributeIfPresent(_ name: String) throws -> String? {
        hasAttribute(name) ? try stringAttribute(name) : nil
    }

    /// Elements of an attribute's dataspace. Attributes are small (HDF5 keeps them in the object
    /// header); a damaged dataspace claiming millions of elements would have libhdf5 convert each,
    /// for hours, so it is refused.
    private func attributeCount(_ space: hid_t, _ name: String) throws -> Int {
        let count = H5Sget_simple_extent_npoints(space)
        guard count >= 0, count <= 1 << 20 else { throw error(.value, "attribute '\(name)' claims \(count) elements (a damaged file?)") }
        return Int(count)
    }

    public func stringArrayAttribute(_ name: String) throws -> [String] {
        try withAttribute(name) { attr in
            let type = H5Aget_type(attr)
            defer { H5Tclose(type) }
            let space = H5Aget_space(attr)
            defer { H5Sclose(space) }
            let count = try attributeCount(space, name)
            if count == 0 { return [] }
            guard H5Tget_class(type) == H5T_STRING else {
                throw error(.value, "attribute '\(name)' should be a string")
            }
            return try HDF5Strings.read(count: count, fileType: type) { mem, buffer in
                try bounded { try check(H5Aread(attr, mem, buffer), "read attribute '\(name)'") }
            }
        }
    }

    public func integerArrayAttribute(_ name: String) throws -> [Int64] {
        try withAttribute(name) { attr in
            let type = H5Aget_type(attr)
            defer { H5Tclose(type) }
            let cls = H5Tget_class(type)
            guard cls == H5T_INTEGER || cls == H5T_FLOAT else { throw error(.value, "attribute '\(name)' should be numeric") }
            let space = H5Aget_space(attr)
            defer { H5Sclose(space) }
            var out = [Int64](repeating: 0, count: try attributeCount(space, name))
            try bounded { try check(H5Aread(attr, cw_H5T_NATIVE_INT64(), &out), "read attribute '\(name)'") }
            return out
        }
    }

    /// A boolean attribute as h5py writes numpy bools (an int8 enum) or any integer.
    public func boolAttribute(_ name: String) throws -> Bool {
        try withAttribute(name) { attr in
            var value: Int8 = 0
            let type = H5Aget_type(attr)
            defer { H5Tclose(type) }
            let mem = H5Tget_class(type) == H5T_ENUM ? H5Tget_native_type(type, H5T_DIR_ASCEND) : H5Tcopy(cw_H5T_NATIVE_INT8())
            defer { H5Tclose(mem) }
            guard H5Tget_size(mem) == 1 else { throw error(.value, "attribute '\(name)' should be a boolean") }
            try bounded { try check(H5Aread(attr, mem, &value), "read attribute '\(name)'") }
            return value != 0
        }
    }

    func isReferenceAttribute(_ name: String) -> Bool {
        (try? withAttribute(name) { attr -> Bool in
            let type = H5Aget_type(attr)
            defer { H5Tclose(type) }
            return H5Tget_class(type) == H5T_REFERENCE
        }) ?? false
    }

    /// Follows an object-reference attribute (anndata 0.7 pointed categorical codes at their
    /// categories this way) and returns the referenced object's path.
    func referencedPath(_ name: String) throws -> String {
        try withAttribute(name) { attr in
            var ref = hobj_ref_t()
            try bounded { try check(H5Aread(attr, cw_H5T_STD_REF_OBJ(), &ref), "read reference attribute '\(name)'") }
            let len = H5Rget_name(id, H5R_OBJECT, &ref, nil, 0)
            guard len > 0 else { throw error(.missingObject, "attribute '\(name)' refers to no object") }
            var buf = [CChar](repeating: 0, count: Int(len) + 1)
            H5Rget_name(id, H5R_OBJECT, &ref, &buf, buf.count)
            return String(cString: buf)
        }
    }

    public func setAttribute(_ name: String, string value: String) throws {
        try setAttribute(name, strings: [value], scalar: true)
    }

    public func setAttribute(_ name: String, strings values: [String], scalar: Bool = false) throws {
        let type = HDF5Strings.variableLengthUTF8()
        defer { H5Tclose(type) }
        var dims = [hsize_t(values.count)]
        let space = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dims, nil)
        defer { H5Sclose(space) }
        try replaceAttribute(name, type: type, space: space) { attr in
            try HDF5Strings.withCStrings(values) { pointers in
                try check(H5Awrite(attr, type, pointers), "write attribute '\(name)'")
            }
        }
    }

    public func setAttribute(_ name: String, integers values: [Int64]) throws {
        var dims = [hsize_t(values.count)]
        let space = H5Screate_simple(1, &dims, nil)
        defer { H5Sclose(space) }
        try replaceAttribute(name, type: cw_H5T_STD_I64LE(), space: space) { attr in
            try check(H5Awrite(attr, cw_H5T_NATIVE_INT64(), values), "write attribute '\(name)'")
        }
    }

    /// A scalar integer attribute (h5py writes a Python int so).
    public func setAttribute(_ name: String, integer value: Int64) throws {
        let space = H5Screate(H5S_SCALAR)
        defer { H5Sclose(space) }
        var v = value
        try replaceAttribute(name, type: cw_H5T_STD_I64LE(), space: space) { attr in
            try check(H5Awrite(attr, cw_H5T_NATIVE_INT64(), &v), "write attribute '\(name)'")
        }
    }

    public func setAttribute(_ name: String, bool value: Bool) throws {
        let type = HDF5Strings.booleanEnum()
        defer { H5Tclose(type) }
        let space = H5Screate(H5S_SCALAR)
        defer { H5Sclose(space) }
        var v: Int8 = value ? 1 : 0
        try replaceAttribute(name, type: type, space: space) { attr in
            try check(H5Awrite(attr, type, &v), "write attribute '\(name)'")
        }
    }

    private func replaceAttribute(_ name: String, type: hid_t, space: hid_t, _ write: (hid_t) throws -> Void) throws {
        if hasAttribute(name) { H5Adelete(id, name) }
        let attr = H5Acreate2(id, name, type, space, cw_H5P_DEFAULT(), cw_H5P_DEFAULT())
        guard attr >= 0 else { throw error(.hdf5, "HDF5 failed to create attribute '\(name)'") }
        defer { H5Aclose(attr) }
        try write(attr)
    }

    /// The anndata `encoding-type` attribute, if any.
    public var encodingType: String? { try? stringAttributeIfPresent("encoding-type") }

    /// Marks this element with anndata's encoding attributes.
    public func setEncoding(_ type: String, version: String) throws {
        try setAttribute("encoding-type", string: type)
        try setAttribute("encoding-version", string: version)
    }
}
