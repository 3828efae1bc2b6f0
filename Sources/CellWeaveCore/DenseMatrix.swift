/// A row-major Float32 matrix (cells x features by convention).
public struct DenseMatrix: Equatable, Sendable {
    public let rows: Int
    public let cols: Int
    public var values: [Float]

    public init(rows: Int, cols: Int, values: [Float]) throws {
        guard rows >= 0, cols >= 0, values.count == rows * cols else {
            throw MatrixError.shapeMismatch(operation: "DenseMatrix", expected: "\(rows)x\(cols) = \(rows * cols) values",
                                            found: "\(values.count) values")
        }
        self.rows = rows
        self.cols = cols
        self.values = values
    }

    public init(rows: Int, cols: Int, repeating value: Float = 0) {
        self.rows = rows
        self.cols = cols
        self.values = [Float](repeating: value, count: rows * cols)
    }

    public subscript(row: Int, col: Int) -> Float {
        get { values[row * cols + col] }
        set { values[row * cols + col] = newValue }
    }

    public func transposed() -> DenseMatrix {
        var out = DenseMatrix(rows: cols, cols: rows)
        for r in 0..<rows {
            for c in 0..<cols { out.values[c * rows + r] = values[r * cols + c] }
        }
        return out
    }

    /// Sparse copy with explicit zeros dropped.
    public func toCSR() -> CSRMatrix {
        var indptr = [Int](repeating: 0, count: rows + 1)
        var indices: [Int32] = []
        var data: [Float] = []
        for r in 0..<rows {
            for c in 0..<cols where values[r * cols + c] != 0 {
                indices.append(Int32(c))
                data.append(values[r * cols + c])
            }
            indptr[r + 1] = data.count
        }
        return CSRMatrix(uncheckedRows: rows, cols: cols, indptr: indptr, indices: indices, values: data)
    }
}
