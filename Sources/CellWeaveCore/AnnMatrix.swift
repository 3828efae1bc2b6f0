/// A matrix as AnnData stores it (X, a layer, raw/X, an obsm entry): sparse CSR, sparse CSC or
/// dense, plus the element type it had on disk so a round trip writes the same dtype.
public struct AnnMatrix: Equatable, Sendable {
    public enum Layout: Equatable, Sendable {
        case csr(CSRMatrix)
        case csc(CSCMatrix)
        case dense(DenseMatrix)
    }

    public var layout: Layout { didSet { origin = nil } }
    public var scalarType: ScalarType { didSet { origin = nil } }
    /// The file element the values came from, while they are unchanged (any change clears it).
    public var origin: MatrixOrigin?

    public init(_ layout: Layout, scalarType: ScalarType = .float32) {
        self.layout = layout
        self.scalarType = scalarType
    }

    /// Equal values and element type; where they came from does not matter.
    public static func == (a: AnnMatrix, b: AnnMatrix) -> Bool { a.layout == b.layout && a.scalarType == b.scalarType }

    public static func csr(_ m: CSRMatrix, scalarType: ScalarType = .float32) -> AnnMatrix { AnnMatrix(.csr(m), scalarType: scalarType) }
    public static func dense(_ m: DenseMatrix, scalarType: ScalarType = .float32) -> AnnMatrix { AnnMatrix(.dense(m), scalarType: scalarType) }

    public var rows: Int {
        switch layout {
        case let .csr(m): return m.rows
        case let .csc(m): return m.rows
        case let .dense(m): return m.rows
        }
    }

    public var cols: Int {
        switch layout {
        case let .csr(m): return m.cols
        case let .csc(m): return m.cols
        case let .dense(m): return m.cols
        }
    }

    /// Stored entries: non-zeros for sparse layouts, every entry for dense.
    public var storedCount: Int {
        switch layout {
        case let .csr(m): return m.nnz
        case let .csc(m): return m.nnz
        case let .dense(m): return m.values.count
        }
    }

    /// The values as CSR (per-cell access), converting if needed.
    public func toCSR() -> CSRMatrix {
        switch layout {
        case let .csr(m): return m
        case let .csc(m): return m.toCSR()
        case let .dense(m): return m.toCSR()
        }
    }

    /// Every stored value, for summaries.
    public var storedValues: [Float] {
        switch layout {
        case let .csr(m): return m.values
        case let .csc(m): return m.values
        case let .dense(m): return m.values
        }
    }
}
