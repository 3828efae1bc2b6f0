import CellWeaveCore
import Testing

@Suite struct SparseMatrixTests {
    // [[1 0 2]
    //  [0 0 3]
    //  [4 5 0]]
    let m = try! CSRMatrix(rows: 3, cols: 3, indptr: [0, 2, 3, 5], indices: [0, 2, 2, 0, 1], values: [1, 2, 3, 4, 5])

    @Test func tripletsAreSortedAndDuplicatesSummed() throws {
        let t = try CSRMatrix(rows: 2, cols: 3, rowIndices: [1, 0, 1, 1], colIndices: [2, 1, 0, 2], values: [1, 2, 3, 4])
        #expect(t.indptr == [0, 1, 3])
        #expect(t.indices == [1, 0, 2])
        #expect(t.values == [2, 3, 5])
    }

    @Test func unsortedRowsAreCanonicalized() throws {
        let u = try CSRMatrix(rows: 1, cols: 4, indptr: [0, 3], indices: [3, 0, 3], values: [1, 2, 4])
        #expect(u.indices == [0, 3])
        #expect(u.values == [2, 5])
    }

    @Test func invalidArraysAreRejected() {
        #expect(throws: MatrixError.self) { try CSRMatrix(rows: 2, cols: 2, indptr: [0, 1], indices: [0], values: [1]) }
        #expect(throws: MatrixError.self) { try CSRMatrix(rows: 1, cols: 2, indptr: [0, 1], indices: [2], values: [1]) }
        #expect(throws: MatrixError.self) { try CSRMatrix(rows: 2, cols: 2, indptr: [0, 2, 1], indices: [0, 1], values: [1, 1]) }
        #expect(throws: MatrixError.self) { try CSRMatrix(rows: 2, cols: 2, rowIndices: [2], colIndices: [0], values: [1]) }
    }

    @Test func elementAccessAndDense() {
        #expect(m[0, 2] == 2)
        #expect(m[1, 0] == 0)
        #expect(m[2, 1] == 5)
        #expect(m.toDense().values == [1, 0, 2, 0, 0, 3, 4, 5, 0])
    }

    @Test func transposeAndCSCRoundTrip() {
        let t = m.transposed()
        #expect(t.toDense() == m.toDense().transposed())
        let csc = m.toCSC()
        #expect(csc.rows == 3 && csc.cols == 3)
        #expect(csc.indptr == [0, 2, 3, 5])
        #expect(csc.indices == [0, 2, 2, 0, 1])
        #expect(csc.values == [1, 4, 5, 2, 3])
        #expect(csc.toCSR() == m)
    }

    @Test func sumsAndCounts() {
        #expect(m.rowSums() == [3, 3, 9])
        #expect(m.columnSums() == [5, 5, 5])
        #expect(m.rowNonZeroCounts() == [2, 1, 2])
        #expect(m.columnNonZeroCounts() == [2, 1, 2])
        #expect(m.toCSC().columnSums() == [5, 5, 5])
        #expect(m.toCSC().rowSums() == [3, 3, 9])
    }

    @Test func slicingAndSelection() throws {
        let rows = try m.rows(1..<3)
        #expect(rows.toDense().values == [0, 0, 3, 4, 5, 0])
        let picked = try m.selectingRows([2, 0])
        #expect(picked.toDense().values == [4, 5, 0, 1, 0, 2])
        let cols = try m.selectingColumns([2, 0])
        #expect(cols.toDense().values == [2, 1, 3, 0, 0, 4])
        #expect(throws: MatrixError.self) { try m.selectingRows([3]) }
        #expect(throws: MatrixError.self) { try m.selectingColumns([0, 0]) }
        let cscCols = try m.toCSC().selectingColumns([1])
        #expect(cscCols.toDense().values == [0, 0, 5])
    }

    @Test func denseToSparseDropsZeros() throws {
        let d = try DenseMatrix(rows: 2, cols: 2, values: [0, 1, 2, 0])
        let s = d.toCSR()
        #expect(s.nnz == 2)
        #expect(s.toDense() == d)
        #expect(throws: MatrixError.self) { try DenseMatrix(rows: 2, cols: 2, values: [1]) }
    }
}
