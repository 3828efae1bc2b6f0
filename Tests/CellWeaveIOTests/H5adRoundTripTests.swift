@testable import CellWeaveIO
import CellWeaveCore
import Foundation
import Testing

@Suite struct H5adRoundTripTests {
    let files = try! TestFiles()

    func sample() throws -> AnnData {
        let x = try CSRMatrix(rows: 3, cols: 4, indptr: [0, 2, 2, 5], indices: [0, 3, 1, 2, 3], values: [1, 2, 3, 4, 5])
        var obs = DataFrame(index: ["c1", "c2", "c3"])
        try obs.setColumn("sample", .categorical(codes: [0, 1, -1], categories: .strings(["s1", "s2"]), ordered: false))
        try obs.setColumn("stage", .categorical(codes: [2, 0, 1], categories: .numeric(NumericArray(integers: [1, 2, 3])), ordered: true))
        try obs.setColumn("n", .numeric(NumericArray(integers: [1, 2, 3], scalarType: .int32)))
        try obs.setColumn("f", .numeric(NumericArray(floats: [0.5, -1, 2], scalarType: .float32)))
        try obs.setColumn("ok", .booleans([true, false, true]))
        try obs.setColumn("label", .strings(["a", "β", ""]))
        try obs.setColumn("maybe", .nullableIntegers(NumericArray(integers: [1, 0, 3]), mask: [false, true, false]))
        try obs.setColumn("flag", .nullableBooleans([true, false, false], mask: [false, false, true]))
        try obs.setColumn("note", .nullableStrings(["x", "", "z"], mask: [false, true, false]))
        var varTable = DataFrame(index: ["g1", "g2", "g3", "g4"])
        try varTable.setColumn("gene_ids", .strings(["E1", "E2", "E3", "E4"]))
        var a = try AnnData(x: .csr(x), obs: obs, varTable: varTable)
        a.layers = [("counts", AnnMatrix(.csc(x.toCSC()), scalarType: .int64)), ("dense", .dense(x.toDense(), scalarType: .float64))]
        a.obsm = [("X_pca", .dense(try DenseMatrix(rows: 3, cols: 2, values: [1, 2, 3, 4, 5, 6])))]
        var rawVar = DataFrame(index: ["g1", "g2", "g3", "g4", "g5"])
        try rawVar.setColumn("gene_ids", .strings(["E1", "E2", "E3", "E4", "E5"]))
        let rawX = try CSRMatrix(rows: 3, cols: 5, indptr: [0, 1, 2, 3], indices: [4, 0, 1], values: [9, 8, 7])
        a.raw = AnnData.Raw(x: .csr(rawX, scalarType: .int32), varTable: rawVar)
        return a
    }

    /// X written block by block reads back as the matrix it was cut from, the rest of the file alike.
    @Test func matrixWrittenInBlocksReadsWhole() throws {
        var a = try sample()
        let x = a.x.toCSR(), path = files.path("blocks.h5ad")
        try H5adWriter.write(to: path) { file in
            let writer = try CSRBlockWriter(in: file, name: "X", cols: x.cols)
            for range in [0..<2, 2..<2, 2..<3] { try writer.append(try x.rows(range)) }
            try writer.finish()
            a.hasX = false
            return a
        }
        let b = try H5adReader.read(path: path)
        #expect(b.hasX && b.x.toCSR() == x && b.obs == a.obs && b.varTable == a.varTable)
    }

    /// Obs columns read by name, and cell names read range by range (across the reader's spans of
    /// 65,536 names), are those of the whole table.
    @Test func obsColumnsReadByNameAsTheTableHasThem() throws {
        let n = 70_000
        var obs = DataFrame(index: (0..<n).map { "cell\($0)" })
        try obs.setColumn("batch", .categorical(codes: (0..<n).map { Int32($0 % 3) }, categories: .strings(["a", "b", "c"]), ordered: false))
        try obs.setColumn("depth", .numeric(NumericArray(floats: (0..<n).map(Double.init))))
        let x = CSRMatrix(uncheckedRows: n, cols: 1, indptr: [Int](repeating: 0, count: n + 1), indices: [], values: [])
        let path = files.path("obs.h5ad")
        try H5adWriter.write(try AnnData(x: .csr(x), obs: obs, varTable: DataFrame(index: ["g"])), to: path)
        let columns = try ObsColumns(path: path, reading: ["batch", "absent"])
        #expect(columns.cells == n && columns.columnNames == ["batch", "depth"])
        #expect(columns["batch"] == obs["batch"] && columns["depth"] == nil && columns["absent"] == nil)
        let picked = [69_999, 3, 65_536, 65_535, 3, 0]
        #expect(try columns.cellNames(picked) == picked.map { obs.index[$0] })
        #expect(throws: InputError.self) { try columns.cellNames([n]) }
    }

    func expectEqual(_ a: AnnData, _ b: AnnData) {
        #expect(a.x == b.x)
        #expect(a.obs == b.obs)
        #expect(a.varTable == b.varTable)
        #expect(a.layers.map(\.name) == b.layers.map(\.name))
        #expect(a.layers.map(\.matrix) == b.layers.map(\.matrix))
        #expect(a.obsm.map(\.name) == b.obsm.map(\.name))
        #expect(a.obsm.map(\.matrix) == b.obsm.map(\.matrix))
        #expect(a.raw?.x == b.raw?.x)
        #expect(a.raw?.varTable == b.raw?.varTable)
    }

    @Test(arguments: [HDF5Compression.none, .gzip(level: 4)])
    func everythingSurvivesARoundTrip(compression: HDF5Compression) throws {
        let a = try sample()
        let p = files.path("a.h5ad")
        try H5adWriter.write(a, to: p, compression: compression)
        let b = try H5adReader.read(path: p)
        expectEqual(a, b)
        // And once more through the reader's own output, with passthrough elements copied.
        let q = files.path("b.h5ad")
        try H5adWriter.write(b, to: q)
        expectEqual(a, try H5adReader.read(path: q))
    }

    @Test func layerAndRawSelectTheCounts() throws {
        let p = files.path("a.h5ad")
        try H5adWriter.write(try sample(), to: p)
        let counts = try H5adReader.read(path: p, source: .layer("counts"))
        #expect(counts.x.scalarType == .int64)
        #expect(counts.x.toCSR() == (try sample()).x.toCSR())
        let raw = try H5adReader.read(path: p, source: .raw)
        #expect(raw.nVars == 5 && raw.raw == nil && raw.layers.isEmpty)
        #expect(throws: InputError.self) { try H5adReader.read(path: p, source: .layer("nope")) }
    }

    func expectReadError(_ path: String, _ kind: InputError.Kind, at hdf5Path: String? = nil) {
        do {
            _ = try CountMatrixLoader.load(path)
            Issue.record("expected \(kind)")
        } catch let e as InputError {
            #expect(e.kind == kind, "\(e)")
            #expect(e.file == path, "\(e)")
            if let hdf5Path { #expect(e.location == .hdf5Path(hdf5Path), "\(e)") }
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func badFilesGiveLocatedErrors() throws {
        let text = try files.write("not.h5ad", "hello")
        expectReadError(text, .notH5ad)

        let other = files.path("other.h5")
        do {
            let f = try HDF5File.create(other)
            try f.writeDataset("temperature", doubles: [1, 2])
        }
        expectReadError(other, .notH5ad, at: "/")

        let noX = files.path("nox.h5ad")
        do {
            let f = try HDF5File.create(noX)
            try f.setEncoding("anndata", version: "0.1.0")
            try H5adWriter.writeDataFrame(DataFrame(index: ["c"]), in: f, name: "obs", compression: .none)
            try H5adWriter.writeDataFrame(DataFrame(index: ["g1", "g2"]), in: f, name: "var", compression: .none)
        }
        // anndata allows X = None: the shape comes from obs and var, and X is written back absent.
        let withoutX = try H5adReader.read(path: noX)
        #expect(!withoutX.hasX && withoutX.nObs == 1 && withoutX.nVars == 2 && withoutX.x.storedCount == 0)
        try H5adWriter.write(withoutX, to: files.path("nox-out.h5ad"))
        #expect(!(try HDF5File.open(files.path("nox-out.h5ad")).contains("X")))

        /// A one-cell, one-gene file whose X group the caller fills in.
        func fileWithX(_ name: String, encoding: String) throws -> (path: String, x: HDF5Group) {
            let path = files.path(name)
            let f = try HDF5File.create(path)
            try H5adWriter.writeDataFrame(DataFrame(index: ["c"]), in: f, name: "obs", compression: .none)
            try H5adWriter.writeDataFrame(DataFrame(index: ["g"]), in: f, name: "var", compression: .none)
            let g = try f.createGroup("X")
            try g.setEncoding(encoding, version: "0.1.0")
            return (path, g)
        }

        let unknown = try fileWithX("unknown.h5ad", encoding: "foo_matrix").path
        expectReadError(unknown, .unknownEncoding, at: "/X")

        let badIndptr: String
        do {
            let (path, g) = try fileWithX("indptr.h5ad", encoding: "csr_matrix")
            badIndptr = path
            try g.setAttribute("shape", integers: [1, 1])
            try g.writeDataset("data", floats: [1])
            try g.writeDataset("indices", int32s: [5])
            try g.writeDataset("indptr", int64s: [0, 1])
        }
        expectReadError(badIndptr, .value, at: "/X")
    }

    /// Files older than the encoding attributes tag sparse groups with h5sparse_format/_shape
    /// and tables with only `_index` and `column-order`.
    @Test func legacySparseGroupsAndUntaggedTables() throws {
        let p = files.path("legacy.h5ad")
        do {
            let f = try HDF5File.create(p)
            for (name, index) in [("obs", ["c1", "c2"]), ("var", ["g1", "g2", "g3"])] {
                let g = try f.createGroup(name)
                try g.setAttribute("_index", string: "_index")
                try g.setAttribute("column-order", strings: name == "obs" ? ["n"] : [])
                try g.writeDataset("_index", strings: index)
                if name == "obs" { try g.writeDataset("n", int64s: [4, 5]) }
            }
            let x = try f.createGroup("X")
            try x.setAttribute("h5sparse_format", string: "csc")
            try x.setAttribute("h5sparse_shape", integers: [2, 3])
            try x.writeDataset("data", floats: [1, 2, 3])
            try x.writeDataset("indices", int32s: [1, 0, 1])
            try x.writeDataset("indptr", int64s: [0, 1, 1, 3])
        }
        let a = try H5adReader.read(path: p)
        #expect(a.x.toCSR().toDense().values == [0, 0, 2, 1, 0, 3])
        #expect(a.obs["n"] == .numeric(NumericArray(integers: [4, 5])))
        #expect(a.varTable.index == ["g1", "g2", "g3"])
    }

    @Test func failedWriteLeavesNoFileAndKeepsTheOldOne() throws {
        var a = try sample()
        let p = files.path("keep.h5ad")
        try Data("precious".utf8).write(to: URL(fileURLWithPath: p))
        a.passthrough = [PassthroughElement(sourceFile: files.path("missing.h5ad"), sourcePath: "uns", destinationPath: "uns")]
        #expect(throws: (any Error).self) { try H5adWriter.write(a, to: p) }
        #expect(try String(contentsOfFile: p, encoding: .utf8) == "precious")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: files.directory.path).filter { $0.contains("partial") }
        #expect(leftovers.isEmpty)
        #expect(throws: OutputError.self) { try H5adWriter.write(a, to: files.path("no/such/dir/x.h5ad")) }
    }

    @Test func npyAndTSVExports() throws {
        let m = try DenseMatrix(rows: 2, cols: 3, values: [1, 2, 3, 4, 5, 6])
        let npy = NPYWriter.encode(m)
        #expect(Array(npy.prefix(8)) == [0x93] + Array("NUMPY".utf8) + [1, 0])
        let headerLength = Int(npy[8]) | Int(npy[9]) << 8
        #expect((10 + headerLength) % 64 == 0)
        #expect(npy.count == 10 + headerLength + 24)
        let header = String(decoding: npy[10..<(10 + headerLength)], as: UTF8.self)
        #expect(header.contains("'shape': (2, 3)") && header.contains("'<f4'"))

        let a = try sample()
        let tsv = TSVWriter.encode(a.obs).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(tsv[0] == "\tsample\tstage\tn\tf\tok\tlabel\tmaybe\tflag\tnote")
        #expect(tsv[3] == "c3\t\t2\t3\t2.0\tTrue\t\t3\t\tz")
    }
}
