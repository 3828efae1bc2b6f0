import CellWeaveCore
import Testing

@Suite struct MatrixOriginTests {
    @Test func anyChangeForgetsWhereAMatrixCameFrom() throws {
        var m = AnnMatrix.dense(try DenseMatrix(rows: 2, cols: 2, values: [1, 2, 3, 4]), scalarType: .float64)
        m.origin = MatrixOrigin(file: "in.h5ad", path: "/X")
        #expect(try m.selecting(rows: [1], cols: [0, 1]).origin == nil)
        let copy = m
        #expect(copy.origin != nil && copy == m)
        m.layout = .dense(try DenseMatrix(rows: 2, cols: 2, values: [1, 2, 3, 5]))
        #expect(m.origin == nil)
        var typed = copy
        typed.scalarType = .float32
        #expect(typed.origin == nil)
    }
}
