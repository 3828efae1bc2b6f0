import CHDF5

/// String and boolean types as h5py writes them, and reading of string data in either of the
/// two HDF5 layouts (variable length, as anndata writes; fixed length, as Cell Ranger writes).
enum HDF5Strings {
    static func variableLengthUTF8() -> hid_t {
        let type = H5Tcopy(cw_H5T_C_S1())
        H5Tset_size(type, cw_H5T_VARIABLE())
        H5Tset_cset(type, H5T_CSET_UTF8)
        return type
    }

    /// numpy's bool as h5py stores it: an int8 enum with FALSE = 0 and TRUE = 1.
    static func booleanEnum() -> hid_t {
        let type = H5Tenum_create(cw_H5T_NATIVE_INT8())
        var f: Int8 = 0, t: Int8 = 1
        H5Tenum_insert(type, "FALSE", &f)
        H5Tenum_insert(type, "TRUE", &t)
        return type
    }

    /// Reads `count` strings; `read(memType, buffer)` performs the dataset or attribute read.
    static func read(count: Int, fileType: hid_t, _ read: (hid_t, UnsafeMutableRawPointer) throws -> Void) throws -> [String] {
        if H5Tis_variable_str(fileType) > 0 {
            let mem = variableLengthUTF8()
            defer { H5Tclose(mem) }
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            try pointers.withUnsafeMutableBytes { try read(mem, $0.baseAddress!) }
            defer { for p in pointers where p != nil { H5free_memory(p) } }
            return pointers.map { $0.map { String(cString: $0) } ?? "" }
        }
        let size = H5Tget_size(fileType)
        let mem = H5Tcopy(cw_H5T_C_S1())
        defer { H5Tclose(mem) }
        H5Tset_size(mem, size)
        H5Tset_strpad(mem, H5T_STR_NULLPAD)
        var bytes = [UInt8](repeating: 0, count: max(count * size, 1))
        try bytes.withUnsafeMutableBytes { try read(mem, $0.baseAddress!) }
        return (0..<count).map { i in
            let field = bytes[(i * size)..<((i + 1) * size)]
            let end = field.firstIndex(of: 0) ?? field.endIndex
            return String(decoding: field[field.startIndex..<end], as: UTF8.self)
        }
    }

    /// Calls `body` with a C array of NUL-terminated copies of `strings`.
    static func withCStrings<T>(_ strings: [String], _ body: (UnsafeRawPointer) throws -> T) throws -> T {
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        return try copies.withUnsafeBytes { try body($0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!) }
    }
}

#if canImport(Glibc)
import Glibc
#endif
