import CellWeaveCore
import Testing

@Suite struct DataFrameTests {
    // Expected values are what anndata.utils.make_index_unique returns for the same input.
    @Test(arguments: [
        (["a", "a", "b", "a-1"], ["a", "a-2", "b", "a-1"]),
        (["a", "a", "a"], ["a", "a-1", "a-2"]),
        (["a-1", "a", "a"], ["a-1", "a", "a-2"]),
        (["x", "x", "x-1", "x-1"], ["x", "x-2", "x-1", "x-1-1"]),
    ])
    func makeIndexUniqueMatchesAnndata(input: [String], expected: [String]) {
        var frame = DataFrame(index: input)
        frame.makeIndexUnique()
        #expect(frame.index == expected)
    }

    @Test func columnsKeepOrderAndLength() throws {
        var frame = DataFrame(index: ["c1", "c2"])
        try frame.setColumn("n", .numeric(NumericArray(integers: [1, 2])))
        try frame.setColumn("s", .strings(["a", "b"]))
        try frame.setColumn("n", .numeric(NumericArray(integers: [3, 4])))
        #expect(frame.columnNames == ["n", "s"])
        #expect(frame["n"] == .numeric(NumericArray(integers: [3, 4])))
        #expect(throws: MatrixError.self) { try frame.setColumn("bad", .strings(["x"])) }
        let sub = frame.selectingRows([1])
        #expect(sub.index == ["c2"])
        #expect(sub["s"] == .strings(["b"]))
    }
}
