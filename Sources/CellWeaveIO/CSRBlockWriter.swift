import CHDF5
import CellWeaveCore

/// A CSR matrix written into an h5ad block of rows by block (simulate's millions of cells), as
/// anndata writes a csr_matrix: data and indices appended as the blocks come (chunked, so the
/// matrix is never whole in memory), the row pointers (one integer a row) at the end.
public final class CSRBlockWriter {
    private let group: HDF5Group
    private let data: HDF5Dataset
    private let indices: HDF5Dataset
    private let cols: Int
    private let compression: HDF5Compression
    private var indptr: [Int64] = [0]

    public init(in parent: HDF5Group, name: String, cols: Int, compression: HDF5Compression = .none) throws {
        group = try parent.createGroup(name)
        try group.setEncoding("csr_matrix", version: "0.1.0")
        data = try group.createAppendableDataset("data", fileType: ScalarType.float32.hdf5FileType, compression: compression)
        indices = try group.createAppendableDataset("indices", fileType: cw_H5T_STD_I32LE(), compression: compression)
        self.cols = cols
        self.compression = compression
    }

    public var rows: Int { indptr.count - 1 }

    public func append(_ block: CSRMatrix) throws {
        precondition(block.cols == cols, "a block of \(block.cols) columns for a matrix of \(cols)")
        try data.append(floats: block.values)
        try indices.append(int32s: block.indices)
        let offset = indptr.last!
        indptr += block.indptr.dropFirst().map { offset + Int64($0) }
    }

    /// The row pointers and the shape. Pointers are int32 while the non-zeros fit, as anndata
    /// writes them; beyond 2^31 non-zeros they are int64 (the indices stay int32: scipy takes the
    /// pair to one type when anndata reads it).
    public func finish() throws {
        try group.setAttribute("shape", integers: [Int64(rows), Int64(cols)])
        for ds in [data, indices] { try ds.check(H5Dflush(ds.id), "write dataset (flushing its chunks)") }
        if indptr.last! <= Int64(Int32.max) {
            try group.writeDataset("indptr", int32s: indptr.map { Int32($0) }, compression: compression)
        } else {
            try group.writeDataset("indptr", int64s: indptr, compression: compression)
        }
    }
}
