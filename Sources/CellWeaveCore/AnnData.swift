/// The annotated data matrix CellWeave reads and writes, mirroring anndata's AnnData:
/// `X` is cells (obs) x features (var).
public struct AnnData: Sendable {
    /// Raw counts kept beside a processed X (anndata's `.raw`): its own X and var.
    public struct Raw: Sendable {
        public var x: AnnMatrix
        public var varTable: DataFrame
        public init(x: AnnMatrix, varTable: DataFrame) {
            self.x = x
            self.varTable = varTable
        }
    }

    public var x: AnnMatrix
    /// False for a file whose X is absent (anndata allows X = None): `x` is then an empty matrix
    /// of the right shape, and a stage that needs counts takes them from a layer or raw.
    public var hasX = true
    public var obs: DataFrame
    public var varTable: DataFrame
    public var layers: [(name: String, matrix: AnnMatrix)] = []
    public var obsm: [(name: String, matrix: AnnMatrix)] = []
    public var raw: Raw?
    /// Entries CellWeave writes into uns, varm and obsp, on top of (or replacing) any carried from
    /// the input.
    public var uns: [(name: String, value: UnsValue)] = []
    public var varm: [(name: String, matrix: AnnMatrix)] = []
    public var obsp: [(name: String, matrix: AnnMatrix)] = []
    /// Elements CellWeave does not interpret (uns, varm, obsp, ...), carried through unchanged
    /// from the file they came from.
    public var passthrough: [PassthroughElement] = []

    public init(x: AnnMatrix, obs: DataFrame, varTable: DataFrame) throws {
        guard x.rows == obs.rowCount, x.cols == varTable.rowCount else {
            throw MatrixError.shapeMismatch(operation: "AnnData", expected: "X of \(obs.rowCount) obs x \(varTable.rowCount) var",
                                            found: "\(x.rows) x \(x.cols)")
        }
        self.x = x
        self.obs = obs
        self.varTable = varTable
    }

    public var nObs: Int { obs.rowCount }
    public var nVars: Int { varTable.rowCount }

    public func layer(_ name: String) -> AnnMatrix? { layers.first { $0.name == name }?.matrix }
}

/// An element of a source h5ad file to be copied verbatim into the output.
public struct PassthroughElement: Sendable, Equatable {
    /// Path in the source file, e.g. "uns" or "obsp/connectivities".
    public var sourcePath: String
    public var sourceFile: String
    /// Path to write it to in the output.
    public var destinationPath: String

    /// Write it as HDF5 external links to its source (a group: one link per child, so that a
    /// stage's own additions go into this file, never into the source).
    public var asLink = false

    public init(sourceFile: String, sourcePath: String, destinationPath: String) {
        self.sourceFile = sourceFile
        self.sourcePath = sourcePath
        self.destinationPath = destinationPath
    }
}
