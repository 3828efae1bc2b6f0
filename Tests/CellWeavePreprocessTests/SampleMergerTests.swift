import CellWeaveCore
import CellWeavePreprocess
import Testing

@Suite struct SampleMergerTests {
    func sample(_ genes: [String], _ rows: [[Float]], barcodes: [String]) throws -> AnnData {
        let dense = try DenseMatrix(rows: rows.count, cols: genes.count, values: rows.flatMap { $0 })
        var varTable = DataFrame(index: genes)
        try varTable.setColumn("gene_ids", .strings(genes.map { "ID_" + $0 }))
        return try AnnData(x: .csr(dense.toCSR()), obs: DataFrame(index: barcodes), varTable: varTable)
    }

    @Test func innerAndOuterJoins() throws {
        let a = try sample(["A", "B", "C"], [[1, 2, 3]], barcodes: ["x"])
        let b = try sample(["C", "D", "A"], [[4, 5, 6], [0, 7, 0]], barcodes: ["x", "y"])
        let inner = try SampleMerger.merge([("s1", a), ("s2", b)])
        #expect(inner.varTable.index == ["A", "C"])
        #expect(inner.obs.index == ["x-s1", "x-s2", "y-s2"])
        #expect(inner.x.toCSR().toDense().values == [1, 3, 6, 4, 0, 0])
        #expect(inner.obs["sample"] == .categorical(codes: [0, 1, 1], categories: .strings(["s1", "s2"]), ordered: false))
        #expect(inner.varTable["gene_ids"] == .strings(["ID_A", "ID_C"]))

        let outer = try SampleMerger.merge([("s1", a), ("s2", b)], join: .outer)
        #expect(outer.varTable.index == ["A", "B", "C", "D"])
        #expect(outer.x.toCSR().toDense().values == [1, 2, 3, 0, 6, 0, 4, 5, 0, 0, 0, 7])
    }

    @Test func clashesAreRefused() throws {
        let a = try sample(["A"], [[1]], barcodes: ["x"])
        #expect(throws: SampleMerger.MergeError.duplicateSample("s")) { try SampleMerger.merge([("s", a), ("s", a)]) }
        let b = try sample(["B"], [[1]], barcodes: ["x"])
        #expect(throws: SampleMerger.MergeError.noSharedGenes) { try SampleMerger.merge([("a", a), ("b", b)]) }
        let twice = try sample(["A", "A"], [[1, 2]], barcodes: ["x"])
        #expect(throws: SampleMerger.MergeError.duplicateGenes(sample: "t", gene: "A")) { try SampleMerger.merge([("t", twice)]) }
    }
}
