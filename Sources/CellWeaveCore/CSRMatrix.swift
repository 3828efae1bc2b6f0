/// Compressed sparse row matrix of Float32 values: per-row (per-cell) access is contiguous.
public struct CSRMatrix: Equatable, Sendable {
    public var storage: CompressedSparseStorage

    public var rows: Int { storage.major }
    public var cols: Int { storage.minor }
    public var indptr: [Int] { storage.indptr }
    public var indices: [Int32] { storage.indices }
    public var values: [Float] { storage.values }
    public var nnz: Int { storage.nnz }

    /// Validates the arrays (lengths, monotone indptr, indices in range) and sorts each row.
    public init(rows: Int, cols: Int, indptr: [Int], indices: [Int32], values: [Float]) throws {
        storage = CompressedSparseStorage(major: rows, minor: cols, indptr: indptr, indices: indices, values: values)
        try storage.validate()
        storage.canonicalize()
    }

    /// For callers that built the arrays themselves in canonical form.
    public init(uncheckedRows rows: Int, cols: Int, indptr: [Int], indices: [Int32], values: [Float]) {
        storage = CompressedSparseStorage(major: rows, minor: cols, indptr: indptr, indices: indices, values: values)
    }

    public init(storage: CompressedSparseStorage) { self.storage = storage }

    /// Builds from coordinate triplets; duplicates are summed as scipy's `coo.tocsr()` does.
    public init(rows: Int, cols: Int, rowIndices: [Int32], colIndices: [Int32], values: [Float]) throws {
        guard rowIndices.count == values.count, colIndices.count == values.count else {
            throw MatrixError.shapeMismatch(operation: "CSRMatrix(triplets)", expected: "\(values.count) row and column indices",
                                            found: "\(rowIndices.count) rows, \(colIndices.count) columns")
        }
        var counts = [Int](repeating: 0, count: rows + 1)
        for r in rowIndices {
            guard r >= 0, Int(r) < rows else { throw MatrixError.indexOutOfRange(axis: "row", index: Int(r), size: rows) }
            counts[Int(r) + 1] += 1
        }
        for c in colIndices where c < 0 || Int(c) >= cols {
            throw MatrixError.indexOutOfRange(axis: "column", index: Int(c), size: cols)
        }
        for r in 0..<rows { counts[r + 1] += counts[r] }
        var next = counts
        var outIndices = [Int32](repeating: 0, count: values.count)
        var outValues = [Float](repeating: 0, count: values.count)
        for k in 0..<values.count {
            let r = Int(rowIndices[k])
            outIndices[next[r]] = colIndices[k]
            outValues[next[r]] = values[k]
            next[r] += 1
        }
        storage = CompressedSparseStorage(major: rows, minor: cols, indptr: counts, indices: outIndices, values: outValues)
        storage.canonicalize()
    }

    public subscript(row: Int, col: Int) -> Float {
        let lo = storage.indptr[row], hi = storage.indptr[row + 1]
        let target = Int32(col)
        var a = lo, b = hi
        while a < b {
            let m = (a + b) / 2
            if storage.indices[m] < target { a = m + 1 } else { b = m }
        }
        return a < hi && storage.indices[a] == target ? storage.values[a] : 0
    }

    /// The transpose, as a CSR matrix (cols x rows).
    public func transposed() -> CSRMatrix { CSRMatrix(storage: storage.transposed()) }

    /// Same matrix, column-compressed.
    public func toCSC() -> CSCMatrix { CSCMatrix(storage: storage.transposed()) }

    public func toDense() -> DenseMatrix {
        var out = DenseMatrix(rows: rows, cols: cols)
        for r in 0..<rows {
            for k in storage.indptr[r]..<storage.indptr[r + 1] { out.values[r * cols + Int(storage.indices[k])] = storage.values[k] }
        }
        return out
    }

    /// Rows `range`, e.g. a minibatch of cells.
    public func rows(_ range: Range<Int>) throws -> CSRMatrix {
        CSRMatrix(storage: try storage.selectingMajor(Array(range)))
    }

    public func selectingRows(_ selection: [Int]) throws -> CSRMatrix { CSRMatrix(storage: try storage.selectingMajor(selection)) }
    public func selectingColumns(_ selection: [Int]) throws -> CSRMatrix { CSRMatrix(storage: try storage.selectingMinor(selection)) }

    public func rowSums() -> [Double] { storage.majorSums() }
    public func columnSums() -> [Double] { storage.minorSums() }
    /// Adds this matrix's column sums into `sums` (row blocks in order sum as the whole matrix does).
    public func addColumnSums(into sums: inout [Double]) { storage.addMinorSums(into: &sums) }
    /// Non-zeros per row (genes detected per cell).
    public func rowNonZeroCounts() -> [Int] { (0..<rows).map { storage.indptr[$0 + 1] - storage.indptr[$0] } }
    /// Non-zeros per column (cells in which each gene is detected).
    public func columnNonZeroCounts() -> [Int] { storage.minorCounts() }
}
