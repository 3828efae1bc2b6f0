import CellWeaveCore

/// Rows of a CSR matrix in an h5ad file, read range by range (HDF5 hyperslabs of indices and
/// data; only the row pointers are held whole): for stages that stream counts larger than memory.
/// Each range is validated as the whole-file reader validates a matrix.
public final class CSRRowStream {
    public let file: String
    public let path: String
    public let rows: Int
    public let cols: Int
    private let indptr: [Int64]
    private let group: HDF5Group
    private let indices: HDF5Dataset
    private let data: HDF5Dataset

    /// `path`: the matrix element, e.g. `/X`, `/layers/counts`, `/raw/X`.
    public init(file path: String, matrix: String) throws {
        let h5 = try HDF5File.open(path)
        file = path
        self.path = matrix
        guard h5.isGroup(matrix) else {
            throw InputError(.unsupported, file: path, .hdf5Path(matrix), "streaming needs a sparse CSR matrix here (found a dense one or none)")
        }
        group = try h5.group(matrix)
        guard group.encodingType == "csr_matrix" else {
            throw InputError(.unsupported, file: path, .hdf5Path(matrix),
                             "streaming reads rows of a csr_matrix; this is '\(group.encodingType ?? "unknown")' (convert it with cellweave convert)")
        }
        let shape = try group.integerArrayAttribute("shape")
        guard shape.count == 2, shape[0] >= 0, shape[1] >= 0 else { throw group.error(.value, "shape should be two non-negative integers") }
        (rows, cols) = (Int(shape[0]), Int(shape[1]))
        indices = try group.dataset("indices")
        data = try group.dataset("data")
        indptr = try group.dataset("indptr").readInt64s()
        let nnz = data.elementCount
        guard indptr.count == rows + 1, indptr.first == 0, indptr.last == Int64(nnz), indices.elementCount == nnz else {
            throw group.error(.value, "indptr should hold rows + 1 = \(rows + 1) pointers from 0 to nnz = \(nnz) (indices: \(indices.elementCount))", at: "indptr")
        }
        for r in 0..<rows where indptr[r] > indptr[r + 1] {
            throw group.error(.value, "indptr decreases at row \(r)", at: "indptr")
        }
    }

    public var nnz: Int { Int(indptr[rows]) }

    /// The non-zeros of rows `range`.
    public func entries(in range: Range<Int>) -> Int { Int(indptr[range.upperBound] - indptr[range.lowerBound]) }

    /// Rows of a block whose counts, as read and once copied (selected genes, a CSC view: 8 bytes
    /// a non-zero each), fit a quarter of `budget`; the rest is for the tables, the per-cell
    /// results and the stage's buffers. At least one.
    public func blockRows(within budget: UInt64) -> Int {
        max(1, Int(budget / 4) / max(1, 16 * nnz / max(1, rows)))
    }

    /// Rows `range` as a CSR matrix of all columns.
    public func rows(_ range: Range<Int>) throws -> CSRMatrix {
        let lo = Int(indptr[range.lowerBound]), hi = Int(indptr[range.upperBound])
        // CSRMatrix validates the block (indices inside the shape) as the whole-file reader's does.
        do {
            return try CSRMatrix(rows: range.count, cols: cols, indptr: indptr[range.lowerBound...range.upperBound].map { Int($0) - lo },
                                 indices: try indices.readInt32s(lo..<hi), values: try data.readFloats(lo..<hi))
        } catch let e as MatrixError {
            throw group.error(.value, "inconsistent sparse matrix in rows \(range): \(e)")
        }
    }
}
