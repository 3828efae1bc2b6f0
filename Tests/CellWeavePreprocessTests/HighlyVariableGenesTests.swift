import CellWeaveCore
import CellWeavePreprocess
import Testing

@Suite struct HighlyVariableGenesTests {
    /// 40 cells: gene 0 is on in half the cells only (variable), genes 1-3 are flat.
    func counts() throws -> CSRMatrix {
        var rows: [Int32] = [], cols: [Int32] = [], values: [Float] = []
        for c in 0..<40 {
            for g in 0..<4 {
                let v: Float = g == 0 ? (c % 2 == 0 ? 20 : 0) : 5
                if v > 0 { rows.append(Int32(c)); cols.append(Int32(g)); values.append(v) }
            }
        }
        return try CSRMatrix(rows: 40, cols: 4, rowIndices: rows, colIndices: cols, values: values)
    }

    @Test func theVariableGeneRanksFirst() throws {
        let hvg = try HighlyVariableGenes.pearsonResiduals(counts: try counts(), batches: nil, nTopGenes: 1)
        #expect(hvg.highlyVariable == [true, false, false, false])
        #expect(hvg.rank[0] == 0 && hvg.rank[1].isNaN)
        #expect(hvg.means[0] == 10 && hvg.means[1] == 5)
        #expect(abs(hvg.variances[0] - 100 * 40 / 39) < 1e-9)
        #expect(hvg.statistic[0] > hvg.statistic[1])
    }

    @Test func batchesVoteOnTheSelection() throws {
        let batches = (0..<40).map { $0 < 20 ? 1 : 0 }
        let hvg = try HighlyVariableGenes.pearsonResiduals(counts: try counts(), batches: batches, nTopGenes: 2)
        #expect(hvg.nBatches[0] == 2 && hvg.intersection[0])
        #expect(hvg.highlyVariable.filter { $0 }.count == 2)
        #expect(throws: PreprocessError.tooManyGenesRequested(5, available: 4)) {
            try HighlyVariableGenes.pearsonResiduals(counts: try counts(), batches: nil, nTopGenes: 5)
        }
    }

    @Test func batchCodesSortAsNumpyDoes() {
        let text = ColumnValues.strings(["b", "a", "c", "a"]).batchCodes()!
        #expect(text.labels == ["a", "b", "c"] && text.codes == [1, 0, 2, 0])
        let numbers = ColumnValues.numeric(NumericArray(integers: [10, 9, 10])).batchCodes()!
        #expect(numbers.labels == ["9", "10"] && numbers.codes == [1, 0, 1])
        let categorical = ColumnValues.categorical(codes: [1, 0, 1], categories: .strings(["z", "y"]), ordered: false).batchCodes()!
        #expect(categorical.labels == ["y", "z"] && categorical.codes == [0, 1, 0]) // values y, z, y
        #expect(ColumnValues.categorical(codes: [-1], categories: .strings(["z"]), ordered: false).batchCodes() == nil)
        // A float column's NaN is missing too (pandas' missing value), not a label "nan".
        #expect(ColumnValues.numeric(NumericArray(floats: [0, .nan, 1])).batchCodes() == nil)
        #expect(ColumnValues.numeric(NumericArray(floats: [1, 0, 1])).batchCodes()!.labels == ["0.0", "1.0"])
        // Categories no cell has are left out; numeric categories sort by value, as the values would.
        let unused = ColumnValues.categorical(codes: [2, 0, 2], categories: .strings(["c", "unused", "a"]), ordered: false).batchCodes()!
        #expect(unused.labels == ["a", "c"] && unused.codes == [0, 1, 0])
        let numeric = ColumnValues.categorical(codes: [0, 1, 3, 0], categories: .numeric(NumericArray(integers: [10, 9, 100, 2])), ordered: false)
        let values = ColumnValues.numeric(NumericArray(integers: [10, 9, 2, 10]))
        #expect(numeric.batchCodes()!.labels == ["2", "9", "10"] && numeric.batchCodes()!.codes == values.batchCodes()!.codes)
    }
}
