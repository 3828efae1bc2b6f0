import CellWeaveCore
import CellWeavePreprocess
import Testing

@Suite struct QCTests {
    // 4 cells x 3 genes: mt-A is mitochondrial, Rpl1 ribosomal.
    let counts = try! CSRMatrix(rows: 4, cols: 3, indptr: [0, 3, 4, 4, 6], indices: [0, 1, 2, 1, 0, 2], values: [2, 6, 2, 5, 1, 3])
    let genes = ["mt-A", "Rpl1", "Actb"]

    @Test func metricsAsScanpyDefinesThem() throws {
        let m = QCMetrics(counts: counts, geneNames: genes, percentTop: [1, 2, 5])
        #expect(m.cell("total_counts") == [10, 5, 0, 4])
        #expect(m.cell("n_genes_by_counts") == [3, 1, 0, 2])
        #expect(m.cell("pct_counts_in_top_1_genes")![0] == 60)
        #expect(m.cell("pct_counts_in_top_2_genes")![0] == 80)
        #expect(m.cell("pct_counts_in_top_5_genes") == nil) // more than the genes there are
        #expect(m.cell("pct_counts_mt")![0] == 20)
        #expect(m.cell("pct_counts_mt")![2].isNaN) // 0 / 0 for an empty cell, as scanpy
        #expect(m.cell("pct_counts_ribo")![1] == 100)
        #expect(m.gene("n_cells_by_counts") == [2, 2, 2])
        #expect(m.gene("total_counts") == [3, 11, 5])
        #expect(m.gene("pct_dropout_by_counts") == [50, 50, 50])
        #expect(m.variableGenes["mt"] == [true, false, false])
    }

    @Test func robustStatistics() {
        #expect(RobustStatistics.median([3, 1, 2]) == 2)
        #expect(RobustStatistics.median([4, 1, 2, 3, .nan]) == 2.5)
        #expect(RobustStatistics.medianAbsoluteDeviation([1, 2, 3, 4, 100]) == 1)
    }

    @Test func fixedThresholdsAndReasons() throws {
        let m = QCMetrics(counts: counts, geneNames: genes, percentTop: [])
        var f = QCFilter()
        f.countMADs = nil
        f.mitochondrialMADs = nil
        f.minCounts = 4.5
        f.minCellsPerGene = 1
        let r = f.apply(m, counts: counts)
        #expect(r.keepCells == [true, true, false, false])
        #expect(r.reasons[2] == ["low_counts"])
        #expect(r.reasons[3] == ["low_counts"])
        #expect(r.keepGenes == [true, true, true])
        f.maxPctMitochondrial = 10
        let strict = f.apply(m, counts: counts)
        #expect(strict.reasons[0] == ["high_pct_mt"])
        // Genes are judged on the cells that remain: only cell 1 (gene 1) is left.
        #expect(strict.keepGenes == [false, true, false])
        #expect(strict.reasons[3] == ["low_counts", "high_pct_mt"]) // 1 of 4 counts mitochondrial
        #expect(strict.removedByReason == ["low_counts": 2, "high_pct_mt": 2])
    }

    @Test func madOutliersRespectTheMitochondrialFloor() throws {
        // 20 similar cells and one with ten times the counts; all 5% mitochondrial but one at 7%.
        var rows: [Int32] = [], cols: [Int32] = [], values: [Float] = []
        for c in 0..<21 {
            let total: Float = c == 20 ? 1000 : Float(95 + c)
            let mt: Float = c == 3 ? 7 : 5
            rows += [Int32(c), Int32(c)]
            cols += [0, 1]
            values += [mt, total - mt]
        }
        let x = try CSRMatrix(rows: 21, cols: 2, rowIndices: rows, colIndices: cols, values: values)
        let m = QCMetrics(counts: x, geneNames: ["MT-X", "Y"], percentTop: [])
        let r = QCFilter().apply(m, counts: x)
        #expect(r.reasons[20] == ["high_counts"])
        #expect(r.reasons[3].isEmpty) // 7% is a MAD outlier here but below the 8% floor
        #expect(r.keepCells.filter { !$0 }.count == 1)
    }
}
