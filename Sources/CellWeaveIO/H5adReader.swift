import CellWeaveCore

/// Reads .h5ad files: the current AnnData encoding (`encoding-type` attributes) and the older
/// layout of anndata 0.7 (sparse groups tagged `h5sparse_format`, categoricals as codes with an
/// object reference to `__categories/<name>`).
public enum H5adReader {
    /// Which matrix of the file holds the counts to use as X.
    public enum MatrixSource: Equatable, Sendable {
        case x
        case layer(String)
        case raw
    }

    public static func read(path: String, source: MatrixSource = .x) throws -> AnnData {
        let file = try HDF5File.open(path)
        let rootEncoding = file.encodingType
        guard file.contains("X") || file.contains("obs") || rootEncoding == "anndata" else {
            throw InputError(.notH5ad, file: path, .hdf5Path("/"), "not an h5ad file: no X, obs or var (an HDF5 file of another kind?)")
        }
        return try read(group: file, source: source)
    }

    /// The obs and var tables alone, for stages that stream the counts (`CSRRowStream`): `counts`
    /// is the counts matrix's path (`X`, `layers/NAME` or `raw/X`, whose var is raw/var).
    public static func readTables(path: String, counts: String = "X") throws -> (obs: DataFrame, varTable: DataFrame) {
        let file = try HDF5File.open(path)
        guard file.contains("obs") && file.contains("var") else {
            throw InputError(.notH5ad, file: path, .hdf5Path("/"), "not an h5ad file with obs and var tables")
        }
        return (try readDataFrame(file, "obs"), try readVarTable(file, counts: counts))
    }

    /// The var table of the counts at `counts` (raw/var for raw/X).
    public static func readVarTable(path: String, counts: String = "X") throws -> DataFrame {
        let file = try HDF5File.open(path)
        guard file.contains("var") else { throw InputError(.notH5ad, file: path, .hdf5Path("/"), "not an h5ad file with a var table") }
        return try readVarTable(file, counts: counts)
    }

    private static func readVarTable(_ file: HDF5File, counts: String) throws -> DataFrame {
        guard counts.hasPrefix("raw/") else { return try readDataFrame(file, "var") }
        guard file.contains("raw/var") else { throw InputError(.missingObject, file: file.file, .hdf5Path("/raw"), "no raw counts (raw/X, raw/var)") }
        return try readDataFrame(try file.group("raw"), "var")
    }

    /// The AnnData stored in a group: the file's root for h5ad, `mod/<name>` in h5mu.
    static func read(group file: HDF5Group, source: MatrixSource = .x) throws -> AnnData {
        let path = file.file
        let obs = try readDataFrame(file, "obs")
        var varTable = try readDataFrame(file, "var")
        // anndata allows X = None: the shape is then obs x var, and counts come from a layer or raw.
        let hasX = file.contains("X")
        var x = hasX ? try readMatrix(file, "X") : .csr(CSRMatrix(uncheckedRows: obs.rowCount, cols: varTable.rowCount,
                                                               indptr: [Int](repeating: 0, count: obs.rowCount + 1), indices: [], values: []))
        var passthrough: [PassthroughElement] = []
        // Passthrough paths are relative to the file's root; destinations to the AnnData's.
        func carry(_ p: String) { passthrough.append(PassthroughElement(sourceFile: path, sourcePath: String(file.childPath(p).dropFirst()), destinationPath: p)) }
        // anndata writes varm, obsp and varp even when empty: nothing to carry (or to lose).
        func holdsSomething(_ p: String) -> Bool { file.contains(p) && (!file.isGroup(p) || !((try? file.group(p).childNames())?.isEmpty ?? false)) }

        var layers: [(name: String, matrix: AnnMatrix)] = []
        if file.contains("layers") {
            let g = try file.group("layers")
            for name in try g.childNames() { layers.append((name, try readMatrix(g, name))) }
        }
        var raw: AnnData.Raw?
        if file.contains("raw") {
            let g = try file.group("raw")
            raw = AnnData.Raw(x: try readMatrix(g, "X"), varTable: try readDataFrame(g, "var"))
        }
        var obsm: [(name: String, matrix: AnnMatrix)] = []
        if file.contains("obsm") {
            let g = try file.group("obsm")
            for name in try g.childNames() {
                // Sparse ones are read (a stage that drops cells subsets them); data frames are carried.
                if try g.isDataset(name) || ["csr_matrix", "csc_matrix"].contains(g.group(name).encodingType) {
                    obsm.append((name, try readMatrix(g, name)))
                } else {
                    carry("obsm/" + name)
                }
            }
        }

        switch source {
        case .x:
            for p in ["uns", "varm", "obsp", "varp", "raw/varm"] where holdsSomething(p) { carry(p) }
        case let .layer(name):
            guard let layer = layers.first(where: { $0.name == name }) else {
                let known = layers.map(\.name).joined(separator: ", ")
                throw InputError(.missingObject, file: path, .hdf5Path(file.childPath("layers/\(name)")),
                                 "no layer '\(name)' (layers: \(known.isEmpty ? "none" : known))")
            }
            x = layer.matrix
            for p in ["uns", "varm", "obsp", "varp", "raw/varm"] where holdsSomething(p) { carry(p) }
        case .raw:
            guard let r = raw else { throw InputError(.missingObject, file: path, .hdf5Path(file.childPath("raw")), "the file has no raw matrix") }
            // raw has its own genes: elements shaped like the processed var no longer fit.
            x = r.x
            varTable = r.varTable
            raw = nil
            layers = []
            for p in ["uns", "obsp"] where holdsSomething(p) { carry(p) }
        }
        do {
            var adata = try AnnData(x: x, obs: obs, varTable: varTable)
            adata.hasX = hasX || source != .x
            adata.layers = layers
            adata.obsm = obsm
            adata.raw = raw
            adata.passthrough = passthrough
            return adata
        } catch let e as MatrixError {
            throw InputError(.mismatch, file: path, .hdf5Path(file.childPath("X")), e.description)
        }
    }

    /// One matrix of an h5ad file by its path (e.g. "obsp/connectivities"), which `read` only carries
    /// through; an error naming the file and path when it is absent.
    public static func matrix(path: String, at element: String) throws -> AnnMatrix {
        let file = try HDF5File.open(path)
        let parts = element.split(separator: "/").map(String.init)
        guard file.contains(element), let name = parts.last else {
            throw InputError(.missingObject, file: path, .hdf5Path("/" + element), "no /\(element) in the file")
        }
        let parent = parts.count == 1 ? file : try file.group(parts.dropLast().joined(separator: "/"))
        return try readMatrix(parent, name)
    }

    // MARK: matrices

    static func readMatrix(_ parent: HDF5Group, _ name: String) throws -> AnnMatrix {
        var m = try readMatrixValues(parent, name)
        // Kept while unchanged: an unchanged float64 element is copied verbatim on write (its float32
        // working copy would lose precision), and any may be written as a link to where it is
        // stored: the target of an external link, so that links never chain.
        m.origin = parent.origin(of: name)
        return m
    }

    private static func readMatrixValues(_ parent: HDF5Group, _ name: String) throws -> AnnMatrix {
        let where_ = InputError.Location.hdf5Path(parent.childPath(name))
        if parent.isDataset(name) {
            let ds = try parent.dataset(name)
            if let enc = ds.encodingType, enc != "array" {
                throw InputError(.unknownEncoding, file: parent.file, where_, "unknown encoding-type '\(enc)' for a matrix (expected array, csr_matrix or csc_matrix)")
            }
            let shape = ds.shape
            guard shape.count == 2, let type = ds.scalarType else {
                throw InputError(.value, file: parent.file, where_, "expected a 2-D numeric array, found shape \(shape)")
            }
            let m = try DenseMatrix(rows: shape[0], cols: shape[1], values: try ds.readFloats())
            return .dense(m, scalarType: type)
        }
        let g = try parent.group(name)
        let format: String
        let shape: [Int64]
        if let enc = g.encodingType {
            switch enc {
            case "csr_matrix": format = "csr"
            case "csc_matrix": format = "csc"
            default:
                throw InputError(.unknownEncoding, file: parent.file, where_, "unknown encoding-type '\(enc)' for a matrix (expected array, csr_matrix or csc_matrix)")
            }
            shape = try g.integerArrayAttribute("shape")
        } else if g.hasAttribute("h5sparse_format") {
            format = try g.stringAttribute("h5sparse_format")
            shape = try g.integerArrayAttribute("h5sparse_shape")
        } else {
            throw InputError(.unknownEncoding, file: parent.file, where_, "a group without encoding-type or h5sparse_format is not a matrix anndata writes")
        }
        guard shape.count == 2, shape[0] >= 0, shape[1] >= 0 else {
            throw InputError(.value, file: parent.file, where_, "sparse matrix shape should be two non-negative integers, found \(shape)")
        }
        let data = try g.dataset("data")
        guard let type = data.scalarType else {
            throw InputError(.value, file: parent.file, .hdf5Path(g.childPath("data")), "sparse data must be numeric")
        }
        let values = try data.readFloats()
        let indices = try g.dataset("indices").readInt32s()
        let indptr = try g.dataset("indptr").readInt64s().map { Int($0) }
        let (rows, cols) = (Int(shape[0]), Int(shape[1]))
        do {
            switch format {
            case "csr": return AnnMatrix(.csr(try CSRMatrix(rows: rows, cols: cols, indptr: indptr, indices: indices, values: values)), scalarType: type)
            case "csc": return AnnMatrix(.csc(try CSCMatrix(rows: rows, cols: cols, indptr: indptr, indices: indices, values: values)), scalarType: type)
            default: throw InputError(.unknownEncoding, file: parent.file, where_, "unknown sparse format '\(format)'")
            }
        } catch let e as MatrixError {
            throw InputError(.value, file: parent.file, where_, "inconsistent sparse matrix: \(e)")
        }
    }

    // MARK: data frames

    /// A table's group, the name of its index and its column order, checked.
    static func table(_ parent: HDF5Group, _ name: String) throws -> (group: HDF5Group, indexName: String, order: [String]) {
        let where_ = InputError.Location.hdf5Path(parent.childPath(name))
        guard parent.contains(name) else { throw InputError(.missingObject, file: parent.file, where_, "the table is missing") }
        guard parent.isGroup(name) else {
            throw InputError(.unsupported, file: parent.file, where_, "a table stored as one compound dataset (anndata before 0.7) is not supported; re-save it with anndata >= 0.7")
        }
        let g = try parent.group(name)
        if let enc = g.encodingType, enc != "dataframe" {
            throw InputError(.unknownEncoding, file: parent.file, where_, "unknown encoding-type '\(enc)' for a table (expected dataframe)")
        }
        let indexName = try g.stringAttributeIfPresent("_index") ?? "_index"
        return (g, indexName, g.hasAttribute("column-order") ? try g.stringArrayAttribute("column-order") : [])
    }

    /// A table's column, whose length must be the index's.
    static func readColumn(_ g: HDF5Group, _ name: String, rows: Int) throws -> ColumnValues {
        let values = try readColumn(g, name)
        guard values.count == rows else {
            throw InputError(.mismatch, file: g.file, .hdf5Path(g.childPath(name)), "column has \(values.count) entries, the index \(rows)")
        }
        return values
    }

    static func readDataFrame(_ parent: HDF5Group, _ name: String) throws -> DataFrame {
        let (g, indexName, order) = try table(parent, name)
        let index = try g.dataset(indexName).readStrings()
        var frame = DataFrame(index: index, indexName: indexName)
        frame.indexOrigin = g.origin(of: indexName)
        for column in order {
            try frame.setColumn(column, try readColumn(g, column, rows: index.count))
            // anndata 0.7's categoricals point at their categories by object reference: written anew.
            if g.isGroup(column) || (try? g.dataset(column))?.encodingType != nil { frame.columnOrigins[column] = g.origin(of: column) }
        }
        return frame
    }

    static func readColumn(_ g: HDF5Group, _ name: String) throws -> ColumnValues {
        let where_ = InputError.Location.hdf5Path(g.childPath(name))
        if g.isGroup(name) {
            let c = try g.group(name)
            let enc = c.encodingType ?? ""
            switch enc {
            case "categorical":
                let ordered = c.hasAttribute("ordered") ? try c.boolAttribute("ordered") : false
                return try categorical(try c.dataset("codes"), categories: try readPlainColumn(try c.dataset("categories")), ordered: ordered)
            case "nullable-integer":
                return .nullableIntegers(try c.dataset("values").readNumericArray(), mask: try c.dataset("mask").readBools())
            case "nullable-boolean":
                return .nullableBooleans(try c.dataset("values").readBools(), mask: try c.dataset("mask").readBools())
            case "nullable-string-array":
                return .nullableStrings(try c.dataset("values").readStrings(), mask: try c.dataset("mask").readBools())
            default:
                throw InputError(.unknownEncoding, file: g.file, where_, "unknown encoding-type '\(enc)' for a table column")
            }
        }
        let ds = try g.dataset(name)
        if let enc = ds.encodingType, enc != "array", enc != "string-array" {
            throw InputError(.unknownEncoding, file: g.file, where_, "unknown encoding-type '\(enc)' for a table column")
        }
        if ds.hasAttribute("categories"), ds.isReferenceAttribute("categories") {
            // anndata 0.7: codes here, categories in the referenced dataset.
            let target = try g.dataset(try ds.referencedPath("categories"))
            let categories = try readPlainColumn(target)
            let ordered = target.hasAttribute("ordered") ? try target.boolAttribute("ordered") : false
            return try categorical(ds, categories: categories, ordered: ordered)
        }
        return try readPlainColumn(ds)
    }

    /// A categorical column whose codes lie in -1 (missing) ... categories - 1, as anndata requires
    /// (a damaged file's stray codes would otherwise be written out into a file anndata refuses).
    static func categorical(_ codes: HDF5Dataset, categories: ColumnValues, ordered: Bool) throws -> ColumnValues {
        let values = try codes.readInt32s()
        if let row = values.firstIndex(where: { $0 < -1 || Int($0) >= categories.count }) {
            throw codes.error(.value, "categorical code \(values[row]) at row \(row) is outside -1...\(categories.count - 1) "
                              + "(\(categories.count) categories)")
        }
        return .categorical(codes: values, categories: categories, ordered: ordered)
    }

    static func readPlainColumn(_ ds: HDF5Dataset) throws -> ColumnValues {
        guard ds.shape.count == 1 else {
            throw ds.error(.value, "expected a 1-D column, found shape \(ds.shape)")
        }
        switch ds.elementClass {
        case .string: return .strings(try ds.readStrings())
        case .boolean: return .booleans(try ds.readBools())
        case .integer, .float: return .numeric(try ds.readNumericArray())
        default: throw ds.error(.value, "unsupported column element type \(ds.elementClass)")
        }
    }
}
