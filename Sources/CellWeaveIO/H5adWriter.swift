import CHDF5
import CellWeaveCore

/// Writes AnnData in the current anndata on-disk encoding (anndata >= 0.8), which anndata and
/// scanpy read without conversion or warnings. The file appears atomically.
public enum H5adWriter {
    public static func write(_ adata: AnnData, to path: String, compression: HDF5Compression = .none) throws {
        try AtomicFile.write(to: path) { temporary in
            let file = try HDF5File.create(temporary)
            try write(adata, into: file, compression: compression)
            try file.flush()
        }
    }

    /// An h5ad whose X `body` writes into the file first, block by block (`CSRBlockWriter`),
    /// returning the rest (its `hasX` false): for matrices too large to hold.
    public static func write(to path: String, compression: HDF5Compression = .none, writingX body: (HDF5Group) throws -> AnnData) throws {
        try AtomicFile.write(to: path) { temporary in
            let file = try HDF5File.create(temporary)
            let adata = try body(file)
            precondition(!adata.hasX && file.contains("X"), "the X written first, and the rest without X")
            try write(adata, into: file, compression: compression)
            try file.flush()
        }
    }

    /// An AnnData into a group: the root of an h5ad, or `mod/<name>` of an h5mu.
    static func write(_ adata: AnnData, into file: HDF5Group, compression: HDF5Compression) throws {
        try file.setEncoding("anndata", version: "0.1.0")
        if adata.hasX { try writeMatrix(adata.x, in: file, name: "X", compression: compression) }
        try writeDataFrame(adata.obs, in: file, name: "obs", compression: compression)
        try writeDataFrame(adata.varTable, in: file, name: "var", compression: compression)

        var sources: [String: HDF5File] = [:]
        func copyPassthrough(_ element: PassthroughElement, into parent: HDF5Group, as name: String) throws {
            let source = try sources[element.sourceFile] ?? HDF5File.open(element.sourceFile)
            sources[element.sourceFile] = source
            try carry(element, from: source, into: parent, as: name)
        }
        let carried = Dictionary(adata.passthrough.map { ($0.destinationPath, $0) }, uniquingKeysWith: { a, _ in a })

        let layers = try file.createDictGroup("layers")
        for (name, m) in adata.layers { try writeMatrix(m, in: layers, name: name, compression: compression) }
        let obsm = try file.createDictGroup("obsm")
        for (name, m) in adata.obsm { try writeMatrix(m, in: obsm, name: name, compression: compression) }
        for element in adata.passthrough where element.destinationPath.hasPrefix("obsm/") {
            try copyPassthrough(element, into: obsm, as: String(element.destinationPath.dropFirst(5)))
        }
        for name in ["uns", "varm", "obsp", "varp"] {
            if let element = carried[name] {
                try copyPassthrough(element, into: file, as: name)
            } else {
                _ = try file.createDictGroup(name)
            }
        }
        let uns = try file.group("uns"), varm = try file.group("varm"), obsp = try file.group("obsp")
        for (name, value) in adata.uns {
            try uns.remove(name)
            try writeUns(value, in: uns, name: name, compression: compression)
        }
        for (name, m) in adata.varm {
            try varm.remove(name)
            try writeMatrix(m, in: varm, name: name, compression: compression)
        }
        for (name, m) in adata.obsp {
            try obsp.remove(name)
            try writeMatrix(m, in: obsp, name: name, compression: compression)
        }
        if let raw = adata.raw {
            let g = try file.createGroup("raw")
            try g.setEncoding("raw", version: "0.1.0")
            try writeMatrix(raw.x, in: g, name: "X", compression: compression)
            try writeDataFrame(raw.varTable, in: g, name: "var", compression: compression)
            if let element = carried["raw/varm"] {
                try copyPassthrough(element, into: g, as: "varm")
            } else {
                _ = try g.createDictGroup("varm")
            }
        }
    }

    /// Groups a stage may add to (uns, varm, obsp, varp) are linked child by child.
    static let extensibleGroups: Set<String> = ["uns", "varm", "obsp", "varp"]

    /// An element carried through unchanged: copied, or linked to where it is stored.
    static func carry(_ element: PassthroughElement, from source: HDF5File, into parent: HDF5Group, as name: String) throws {
        let linked = try parent.linkOrCopy(element.sourcePath, from: source, as: name, link: element.asLink,
                                           childByChild: extensibleGroups.contains(element.destinationPath))
        // A linked source has its encodings, and a link is never written through.
        if !linked && parent.isGroup(name) { try addMissingEncodings(try parent.group(name)) }
    }

    public static func writeMatrix(_ m: AnnMatrix, in parent: HDF5Group, name: String, compression: HDF5Compression) throws {
        if let origin = m.origin, origin.asLink, !parent.replaces(origin.file) {
            try parent.createExternalLink(name, to: origin.file, path: origin.path)
            return
        }
        // An unchanged element of a type wider than float32 is copied as stored: its float32 working
        // copy could lose digits (float64 values, integer counts of 2^24 or more).
        if let origin = m.origin, !m.scalarType.fitsFloat32 {
            try parent.copy(from: try HDF5File.open(origin.file), path: origin.path, to: name)
            if parent.isGroup(name) {
                try addMissingEncodings(try parent.group(name))
            } else {
                let ds = try parent.dataset(name)
                if ds.encodingType == nil { try ds.setEncoding("array", version: "0.2.0") }
            }
            return
        }
        func sparse(_ s: CompressedSparseStorage, encoding: String, rows: Int, cols: Int) throws {
            let g = try parent.createGroup(name)
            try g.setEncoding(encoding, version: "0.1.0")
            try g.setAttribute("shape", integers: [Int64(rows), Int64(cols)])
            try g.writeDataset("data", floats: s.values, as: m.scalarType, compression: compression)
            // scipy's sparse kernels need indices and indptr of one integer type, as anndata writes.
            if s.nnz <= Int(Int32.max) {
                try g.writeDataset("indices", int32s: s.indices, compression: compression)
                try g.writeDataset("indptr", int32s: s.indptr.map { Int32($0) }, compression: compression)
            } else {
                try g.writeDataset("indices", int64s: s.indices.map { Int64($0) }, compression: compression)
                try g.writeDataset("indptr", int64s: s.indptr.map { Int64($0) }, compression: compression)
            }
        }
        switch m.layout {
        case let .csr(c): try sparse(c.storage, encoding: "csr_matrix", rows: c.rows, cols: c.cols)
        case let .csc(c): try sparse(c.storage, encoding: "csc_matrix", rows: c.rows, cols: c.cols)
        case let .dense(d):
            let ds = try parent.writeDataset(name, floats: d.values, dims: [d.rows, d.cols], as: m.scalarType, compression: compression)
            try ds.setEncoding("array", version: "0.2.0")
        }
    }

    public static func writeDataFrame(_ frame: DataFrame, in parent: HDF5Group, name: String, compression: HDF5Compression) throws {
        let g = try parent.createGroup(name)
        try g.setEncoding("dataframe", version: "0.2.0")
        try g.setAttribute("_index", string: frame.indexName)
        try g.setAttribute("column-order", strings: frame.columnNames)
        if let origin = frame.indexOrigin, origin.asLink, !g.replaces(origin.file) {
            try g.createExternalLink(frame.indexName, to: origin.file, path: origin.path)
        } else {
            try g.writeDataset(frame.indexName, strings: frame.index, compression: compression).setEncoding("string-array", version: "0.2.0")
        }
        for (column, values) in frame.columns {
            if let origin = frame.columnOrigins[column], origin.asLink, !g.replaces(origin.file) {
                try g.createExternalLink(column, to: origin.file, path: origin.path)
            } else {
                try writeColumn(values, in: g, name: column, compression: compression)
            }
        }
    }

    static func writeColumn(_ values: ColumnValues, in g: HDF5Group, name: String, compression: HDF5Compression) throws {
        switch values {
        case let .strings(v):
            try g.writeDataset(name, strings: v, compression: compression).setEncoding("string-array", version: "0.2.0")
        case let .numeric(v):
            try writeNumeric(v, in: g, name: name, compression: compression).setEncoding("array", version: "0.2.0")
        case let .booleans(v):
            try g.writeDataset(name, bools: v, compression: compression).setEncoding("array", version: "0.2.0")
        case let .categorical(codes, categories, ordered):
            let c = try g.createGroup(name)
            try c.setEncoding("categorical", version: "0.2.0")
            try c.setAttribute("ordered", bool: ordered)
            // pandas picks the narrowest signed code type that holds every category.
            let n = categories.count
            let codeType: ScalarType = n < Int(Int8.max) ? .int8 : n < Int(Int16.max) ? .int16 : .int32
            try c.writeDataset("codes", int64s: codes.map { Int64($0) }, as: codeType, compression: compression)
                .setEncoding("array", version: "0.2.0")
            try writeColumn(categories, in: c, name: "categories", compression: compression)
        case let .nullableIntegers(v, mask):
            try writeNullable("nullable-integer", .numeric(v), mask: mask, in: g, name: name, compression: compression)
        case let .nullableBooleans(v, mask):
            try writeNullable("nullable-boolean", .booleans(v), mask: mask, in: g, name: name, compression: compression)
        case let .nullableStrings(v, mask):
            try writeNullable("nullable-string-array", .strings(v), mask: mask, in: g, name: name, compression: compression)
        }
    }

    /// anndata's masked arrays: a group with the values and a boolean mask (true = missing).
    static func writeNullable(_ encoding: String, _ values: ColumnValues, mask: [Bool], in g: HDF5Group, name: String,
                              compression: HDF5Compression) throws {
        let c = try g.createGroup(name)
        try c.setEncoding(encoding, version: "0.1.0")
        try writeColumn(values, in: c, name: "values", compression: compression)
        try writeColumn(.booleans(mask), in: c, name: "mask", compression: compression)
    }

    static func writeUns(_ value: UnsValue, in g: HDF5Group, name: String, compression: HDF5Compression) throws {
        switch value {
        case let .string(s):
            let ds = try g.writeScalar(name, string: s)
            try ds.setEncoding("string", version: "0.2.0")
        case let .strings(v):
            try g.writeDataset(name, strings: v, compression: compression).setEncoding("string-array", version: "0.2.0")
        case let .number(x):
            try g.writeScalar(name, double: x).setEncoding("numeric-scalar", version: "0.2.0")
        case let .integer(x):
            try g.writeScalar(name, int64: x).setEncoding("numeric-scalar", version: "0.2.0")
        case let .numbers(v):
            try writeNumeric(v, in: g, name: name, compression: compression).setEncoding("array", version: "0.2.0")
        case let .dict(entries):
            let d = try g.createDictGroup(name)
            for (key, v) in entries { try writeUns(v, in: d, name: key, compression: compression) }
        }
    }

    @discardableResult
    static func writeNumeric(_ v: NumericArray, in g: HDF5Group, name: String, compression: HDF5Compression) throws -> HDF5Dataset {
        switch v.storage {
        case let .integers(x): return try g.writeDataset(name, int64s: x, as: v.scalarType, compression: compression)
        case let .floats(x): return try g.writeDataset(name, doubles: x, as: v.scalarType, compression: compression)
        }
    }

    /// Elements copied from files of anndata 0.7 lack encoding attributes, which today's anndata
    /// warns about; tag them as anndata itself would have.
    static func addMissingEncodings(_ group: HDF5Group) throws {
        if group.encodingType == nil {
            if group.hasAttribute("h5sparse_format") {
                let format = try group.stringAttribute("h5sparse_format")
                try group.setEncoding(format == "csc" ? "csc_matrix" : "csr_matrix", version: "0.1.0")
                try group.setAttribute("shape", integers: try group.integerArrayAttribute("h5sparse_shape"))
                return
            }
            try group.setEncoding("dict", version: "0.1.0")
        }
        guard group.encodingType == "dict" else { return }
        for name in try group.childNames() {
            if group.isGroup(name) {
                try addMissingEncodings(try group.group(name))
                continue
            }
            let ds = try group.dataset(name)
            guard ds.encodingType == nil else { continue }
            let scalar = ds.shape.isEmpty
            switch ds.elementClass {
            case .string: try ds.setEncoding(scalar ? "string" : "string-array", version: "0.2.0")
            case .integer, .float, .boolean: try ds.setEncoding(scalar ? "numeric-scalar" : "array", version: "0.2.0")
            default: break
            }
        }
    }
}
