/// Compressed sparse column matrix of Float32 values: per-column (per-gene) access is contiguous.
public struct CSCMatrix: Equatable, Sendable {
    public var storage: CompressedSparseStorage

    public var rows: Int { storage.minor }
    public var cols: Int { storage.major }
    public var indptr: [Int] { storage.indptr }
    public var indices: [Int32] { storage.indices }
    public var values: [Float] { storage.values }
    public var nnz: Int { storage.nnz }

    /// Validates the arrays (lengths, monotone indptr, indices in range) and sorts each column.
    public init(rows: Int, cols: Int, indptr: [Int], indices: [Int32], values: [Float]) throws {
        storage = CompressedSparseStorage(major: cols, minor: rows, indptr: indptr, indices: indices, values: values)
        try storage.validate()
        storage.canonicalize()
    }

    public init(storage: CompressedSparseStorage) { self.storage = storage }

    public func toCSR() -> CSRMatrix { CSRMatrix(storage: storage.transposed()) }
    public func transposed() -> CSCMatrix { CSCMatrix(storage: storage.transposed()) }
    public func toDense() -> DenseMatrix { toCSR().toDense() }

    public func selectingColumns(_ selection: [Int]) throws -> CSCMatrix { CSCMatrix(storage: try storage.selectingMajor(selection)) }
    public func selectingRows(_ selection: [Int]) throws -> CSCMatrix { CSCMatrix(storage: try storage.selectingMinor(selection)) }

    public func columnSums() -> [Double] { storage.majorSums() }
    public func rowSums() -> [Double] { storage.minorSums() }
    public func columnNonZeroCounts() -> [Int] { (0..<cols).map { storage.indptr[$0 + 1] - storage.indptr[$0] } }
    public func rowNonZeroCounts() -> [Int] { storage.minorCounts() }
}
