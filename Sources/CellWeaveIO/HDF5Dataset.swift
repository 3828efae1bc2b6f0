import CHDF5
import CellWeaveCore
import Foundation

/// An HDF5 dataset: shape, element kind and whole-array reads with conversion to the native
/// type asked for (HDF5 converts integer and float widths itself).
public final class HDF5Dataset: HDF5Node {
    deinit { H5Dclose(id) }

    public var shape: [Int] {
        let space = H5Dget_space(id)
        defer { H5Sclose(space) }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        var dims = [hsize_t](repeating: 0, count: max(rank, 1))
        H5Sget_simple_extent_dims(space, &dims, nil)
        return rank == 0 ? [] : dims.map { Int($0) }
    }

    /// The product of the shape (Int.max where it would overflow: a damaged or hostile shape).
    public var elementCount: Int {
        shape.reduce(1) { n, d in
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            return overflow ? Int.max : p
        }
    }

    /// Refuses, before anything is allocated, a read whose buffer would not fit in this machine's
    /// memory: a damaged shape gets an error naming the path instead of an out-of-memory kill.
    func checkFitsInMemory(_ elements: Int, bytesPerElement: Int) throws {
        let (bytes, overflow) = elements.multipliedReportingOverflow(by: bytesPerElement)
        if let refusal = MemoryLimit.refusal(needing: overflow ? nil : bytes) { throw error(.value, "shape \(shape) \(refusal)") }
    }

    public enum ElementClass { case integer, float, string, boolean, reference, compound, other }

    public var elementClass: ElementClass {
        let type = H5Dget_type(id)
        defer { H5Tclose(type) }
        switch H5Tget_class(type) {
        case H5T_INTEGER: return .integer
        case H5T_FLOAT: return .float
        case H5T_STRING: return .string
        case H5T_ENUM: return .boolean
        case H5T_REFERENCE: return .reference
        case H5T_COMPOUND: return .compound
        default: return .other
        }
    }

    /// The numpy-like element type on disk (enums of one byte are h5py's bools).
    public var scalarType: ScalarType? {
        let type = H5Dget_type(id)
        defer { H5Tclose(type) }
        let size = H5Tget_size(type)
        switch H5Tget_class(type) {
        case H5T_INTEGER:
            let signed = H5Tget_sign(type) == H5T_SGN_2
            switch size {
            case 1: return signed ? .int8 : .uint8
            case 2: return signed ? .int16 : .uint16
            case 4: return signed ? .int32 : .uint32
            case 8: return signed ? .int64 : .uint64
            default: return nil
            }
        case H5T_FLOAT: return size <= 4 ? .float32 : .float64
        case H5T_ENUM: return size == 1 ? .bool : nil
        default: return nil
        }
    }

    private func requireNumeric() throws {
        switch elementClass {
        case .integer, .float, .boolean: return
        default: throw error(.value, "expected numeric data, found \(elementClass)")
        }
    }

    /// Every element.
    private func read<T>(_ zero: T, memType: hid_t) throws -> [T] {
        try read(zero, memType: memType, count: elementCount, memSpace: cw_H5S_ALL(), fileSpace: cw_H5S_ALL(), "read dataset")
    }

    /// `body(memSpace, fileSpace)` with elements `range` of a one-dimensional dataset selected (a
    /// hyperslab: only the chunks it touches are read).
    private func withElements<R>(_ range: Range<Int>, _ body: (_ memSpace: hid_t, _ fileSpace: hid_t) throws -> R) throws -> R {
        guard shape.count == 1, range.lowerBound >= 0, range.upperBound <= shape[0] else {
            throw error(.value, "elements \(range) of a dataset of shape \(shape)")
        }
        let fileSpace = H5Dget_space(id)
        defer { H5Sclose(fileSpace) }
        var start = [hsize_t(range.lowerBound)], count = [hsize_t(range.count)]
        _ = try check(H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, &start, nil, &count, nil), "select elements")
        let memSpace = H5Screate_simple(1, &count, nil)
        defer { H5Sclose(memSpace) }
        return try body(memSpace, fileSpace)
    }

    /// Elements `range` of a one-dimensional dataset.
    private func read<T>(_ zero: T, memType: hid_t, range: Range<Int>) throws -> [T] {
        try withElements(range) { try read(zero, memType: memType, count: range.count, memSpace: $0, fileSpace: $1, "read elements \(range)") }
    }

    /// `n` numbers of the selection, refused before allocating if they would not fit, read under the watchdog.
    private func read<T>(_ zero: T, memType: hid_t, count n: Int, memSpace: hid_t, fileSpace: hid_t, _ what: String) throws -> [T] {
        try requireNumeric()
        try checkFitsInMemory(n, bytesPerElement: MemoryLayout<T>.stride)
        return try [T](unsafeUninitializedCapacity: n) { buffer, count in
            if n > 0 {
                try bounded(bytes: n * MemoryLayout<T>.stride) {
                    try checkRead(H5Dread(id, memType, memSpace, fileSpace, cw_H5P_DEFAULT(), buffer.baseAddress), what)
                }
            }
            count = n
        }
    }

    /// Appends `values` (native memory of `memType`) to a one-dimensional dataset made by
    /// `HDF5Group.createAppendableDataset`.
    func append<T>(_ values: [T], memType: hid_t) throws {
        guard !values.isEmpty else { return }
        let start = elementCount
        var size = [hsize_t(start + values.count)], offset = [hsize_t(start)], count = [hsize_t(values.count)]
        try check(H5Dset_extent(id, &size), "extend the dataset")
        let fileSpace = H5Dget_space(id)
        defer { H5Sclose(fileSpace) }
        try check(H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, &offset, nil, &count, nil), "select where to append")
        let memSpace = H5Screate_simple(1, &count, nil)
        defer { H5Sclose(memSpace) }
        try values.withUnsafeBytes { try check(H5Dwrite(id, memType, memSpace, fileSpace, cw_H5P_DEFAULT(), $0.baseAddress), "append to the dataset") }
    }

    /// Rows `range` of a two-dimensional float dataset, from `values` (row-major, `range.count`
    /// rows): a hyperslab, so a matrix larger than memory is written block by block.
    public func write(rows range: Range<Int>, floats values: [Float]) throws {
        let dims = shape
        guard dims.count == 2, range.lowerBound >= 0, range.upperBound <= dims[0], values.count == range.count * dims[1] else {
            throw error(.value, "rows \(range) of \(values.count) values into a dataset of shape \(dims)")
        }
        guard !range.isEmpty else { return }
        var offset = [hsize_t(range.lowerBound), 0], count = [hsize_t(range.count), hsize_t(dims[1])]
        let fileSpace = H5Dget_space(id)
        defer { H5Sclose(fileSpace) }
        try check(H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, &offset, nil, &count, nil), "select rows \(range)")
        let memSpace = H5Screate_simple(2, &count, nil)
        defer { H5Sclose(memSpace) }
        try values.withUnsafeBytes {
            try check(H5Dwrite(id, cw_H5T_NATIVE_FLOAT(), memSpace, fileSpace, cw_H5P_DEFAULT(), $0.baseAddress), "write rows \(range)")
        }
    }

    public func append(floats: [Float]) throws { try append(floats, memType: cw_H5T_NATIVE_FLOAT()) }
    public func append(int32s: [Int32]) throws { try append(int32s, memType: cw_H5T_NATIVE_INT32()) }

    public func readFloats(_ range: Range<Int>) throws -> [Float] { try read(Float(0), memType: cw_H5T_NATIVE_FLOAT(), range: range) }
    public func readInt32s(_ range: Range<Int>) throws -> [Int32] { try read(Int32(0), memType: cw_H5T_NATIVE_INT32(), range: range) }

    /// A failed read says which filter was missing when that is why.
    private func checkRead(_ status: herr_t, _ what: String) throws {
        guard status < 0 else { return }
        if let filter = HDF5Filters.unavailable(in: id) { throw error(.compression, filter) }
        _ = try check(status, what)
    }

    public func readFloats() throws -> [Float] { try read(Float(0), memType: cw_H5T_NATIVE_FLOAT()) }
    public func readDoubles() throws -> [Double] { try read(Double(0), memType: cw_H5T_NATIVE_DOUBLE()) }
    public func readInt64s() throws -> [Int64] {
        if elementClass == .boolean { return try readBools().map { $0 ? 1 : 0 } }
        return try read(Int64(0), memType: cw_H5T_NATIVE_INT64())
    }
    public func readInt32s() throws -> [Int32] { try read(Int32(0), memType: cw_H5T_NATIVE_INT32()) }

    public func readBools() throws -> [Bool] {
        let type = H5Dget_type(id)
        defer { H5Tclose(type) }
        if H5Tget_class(type) == H5T_ENUM {
            let mem = H5Tget_native_type(type, H5T_DIR_ASCEND)
            defer { H5Tclose(mem) }
            guard H5Tget_size(mem) == 1 else { throw error(.value, "expected a boolean enum of one byte") }
            return try read(Int8(0), memType: mem).map { $0 != 0 }
        }
        return try read(Int8(0), memType: cw_H5T_NATIVE_INT8()).map { $0 != 0 }
    }

    /// Numbers with their on-disk type remembered.
    public func readNumericArray() throws -> NumericArray {
        guard let type = scalarType else { throw error(.value, "expected numeric data, found \(elementClass)") }
        if type.isFloatingPoint { return NumericArray(floats: try readDoubles(), scalarType: type) }
        return NumericArray(integers: try readInt64s(), scalarType: type)
    }

    public func readStrings() throws -> [String] {
        try readStrings(count: elementCount, memSpace: cw_H5S_ALL(), fileSpace: cw_H5S_ALL(), "read strings")
    }

    /// Strings `range` of a one-dimensional dataset.
    public func readStrings(_ range: Range<Int>) throws -> [String] {
        try withElements(range) { try readStrings(count: range.count, memSpace: $0, fileSpace: $1, "read strings \(range)") }
    }

    private func readStrings(count n: Int, memSpace: hid_t, fileSpace: hid_t, _ what: String) throws -> [String] {
        let type = H5Dget_type(id)
        defer { H5Tclose(type) }
        guard H5Tget_class(type) == H5T_STRING else { throw error(.value, "expected strings, found \(elementClass)") }
        if n == 0 { return [] }
        try checkFitsInMemory(n, bytesPerElement: max(H5Tget_size(type), MemoryLayout<UnsafeRawPointer>.stride))
        return try HDF5Strings.read(count: n, fileType: type) { mem, buffer in
            try bounded(bytes: 64 * n) { try checkRead(H5Dread(id, mem, memSpace, fileSpace, cw_H5P_DEFAULT(), buffer), what) }
        }
    }
}
