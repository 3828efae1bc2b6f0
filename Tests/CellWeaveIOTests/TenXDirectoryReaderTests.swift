@testable import CellWeaveIO
import CellWeaveCore
import Foundation
import Testing

@Suite struct TenXDirectoryReaderTests {
    let files = try! TestFiles()
    let matrix = "%%MatrixMarket matrix coordinate integer general\n3 2 4\n1 1 5\n3 1 1\n2 2 7\n3 2 2\n"
    let features = ["ENSG1\tGeneA\tGene Expression", "ENSG2\tGeneA\tGene Expression", "CD3\tCD3_TotalSeqB\tAntibody Capture"]

    @Test func v3DirectoryWithTwoModalities() throws {
        let dir = try files.tenXDirectory("v3", matrix: matrix, features: features, barcodes: ["AAA-1", "CCC-1"])
        let m = try TenXDirectoryReader.read(directory: dir)
        #expect(m.modalities == ["Gene Expression", "Antibody Capture"])
        #expect(m.counts.toDense().values == [5, 0, 1, 0, 7, 2])

        let gex = try m.annData(file: dir)
        #expect(gex.nVars == 2)
        #expect(gex.varTable.index == ["GeneA", "GeneA"])
        #expect(gex.varTable["gene_ids"] == .strings(["ENSG1", "ENSG2"]))
        #expect(gex.x.toCSR().toDense().values == [5, 0, 0, 7])

        let unique = try m.annData(makeVarNamesUnique: true, file: dir)
        #expect(unique.varTable.index == ["GeneA", "GeneA-1"])

        let adt = try m.annData(features: .modality("Antibody Capture"), file: dir)
        #expect(adt.nVars == 1 && adt.x.toCSR().toDense().values == [1, 2])
        #expect(try m.annData(features: .all, file: dir).nVars == 3)
        #expect(throws: InputError.self) { try m.annData(features: .modality("Peaks"), file: dir) }
    }

    @Test func v2PlainDirectory() throws {
        try files.write("v2/matrix.mtx", matrix)
        try files.write("v2/genes.tsv", "ENSG1\tA\nENSG2\tB\nENSG3\tC\n")
        try files.write("v2/barcodes.tsv", "AAA-1\nCCC-1\n")
        let a = try CountMatrixLoader.load(files.path("v2"))
        #expect(a.varTable.index == ["A", "B", "C"])
        #expect(a.varTable["feature_types"] == .strings(Array(repeating: "Gene Expression", count: 3)))
        #expect(a.obs.index == ["AAA-1", "CCC-1"])
    }

    func expectError(_ dir: String, _ kind: InputError.Kind, mentioning file: String, line: Int? = nil) {
        do {
            _ = try CountMatrixLoader.load(dir)
            Issue.record("expected \(kind)")
        } catch let e as InputError {
            #expect(e.kind == kind, "\(e)")
            #expect(e.file.hasSuffix(file), "\(e)")
            if let line { #expect(e.location == .line(line), "\(e)") }
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func countMismatchesAndDuplicates() throws {
        expectError(try files.tenXDirectory("b", matrix: matrix, features: features, barcodes: ["A"]), .mismatch, mentioning: "barcodes.tsv.gz")
        expectError(try files.tenXDirectory("f", matrix: matrix, features: Array(features.prefix(2)), barcodes: ["A", "B"]),
                    .mismatch, mentioning: "features.tsv.gz")
        expectError(try files.tenXDirectory("d", matrix: matrix, features: features, barcodes: ["A", "A"]),
                    .duplicate, mentioning: "barcodes.tsv.gz", line: 2)
        expectError(try files.tenXDirectory("e", matrix: "%%MatrixMarket matrix coordinate integer general\n0 0 0\n", features: [], barcodes: []),
                    .empty, mentioning: "e")
        expectError(try files.tenXDirectory("m", matrix: "%%MatrixMarket matrix coordinate integer general\n3 2 1\n", features: features, barcodes: ["A", "B"]),
                    .entryCount, mentioning: "matrix.mtx.gz", line: 2)
        expectError(try files.tenXDirectory("x", matrix: matrix, features: ["only-one-field"] + features.dropFirst(), barcodes: ["A", "B"]),
                    .value, mentioning: "features.tsv.gz", line: 1)
        expectError(files.path("nowhere"), .notFound, mentioning: "nowhere")
    }

    @Test func realMouseDataMatchesScanpyShapes() throws {
        guard FileManager.default.fileExists(atPath: TestFiles.mouse10k) else { return }
        let a = try CountMatrixLoader.load(TestFiles.mouse10k)
        #expect(a.nObs == 10000 && a.nVars == 1000 && a.x.storedCount == 691_914)
        #expect(Set(a.obs.index).count == 10000)
        #expect(Set(a.varTable.index).count < 1000) // symbols repeat; ids do not
        var unique = a.varTable
        unique.makeIndexUnique()
        #expect(Set(unique.index).count == 1000)
    }
}
