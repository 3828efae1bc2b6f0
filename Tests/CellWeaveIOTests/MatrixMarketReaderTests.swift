@testable import CellWeaveIO
import CellWeaveCore
import Foundation
import Testing

@Suite struct MatrixMarketReaderTests {
    let files = try! TestFiles()

    func read(_ text: String, gz: Bool = true, transpose: Bool = false) throws -> (MatrixMarketHeader, CSRMatrix) {
        let p = try files.write(gz ? "m.mtx.gz" : "m.mtx", text)
        let r = try MatrixMarketReader.read(path: p, transpose: transpose)
        return (r.header, r.matrix)
    }

    func expectError(_ text: String, _ kind: InputError.Kind, line: Int, gz: Bool = true, file: String = "m.mtx.gz") {
        do {
            _ = try read(text, gz: gz)
            Issue.record("expected a \(kind) error")
        } catch let e as InputError {
            #expect(e.kind == kind, "\(e)")
            #expect(e.location == .line(line), "\(e)")
            #expect(e.description.contains(file))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func integerFileInAnyOrderWithComments() throws {
        let (h, m) = try read("""
        %%MatrixMarket matrix coordinate integer general
        % a comment
        %
        2 3 4
        2 3 7
        1 1 1
        2 1 5
        1 3 2
        """)
        #expect(h == MatrixMarketHeader(field: .integer, rows: 2, cols: 3, entries: 4))
        #expect(m.toDense().values == [1, 0, 2, 5, 0, 7])
    }

    @Test func transposeGivesCellsByFeatures() throws {
        let (_, m) = try read("%%MatrixMarket matrix coordinate integer general\n2 3 3\n1 1 1\n2 2 4\n1 3 2\n", transpose: true)
        #expect(m.rows == 3 && m.cols == 2)
        #expect(m.toDense().values == [1, 0, 0, 4, 2, 0])
    }

    @Test func outOfOrderEntriesAfterSortedPrefix() throws {
        // Sorted by column for a while, then back: the reader must switch strategies correctly.
        let (_, m) = try read("%%MatrixMarket matrix coordinate integer general\n3 3 5\n1 1 1\n2 2 2\n3 3 3\n1 2 4\n2 1 5\n", transpose: true)
        #expect(m.toDense().values == [1, 5, 0, 4, 2, 0, 0, 0, 3])
    }

    @Test func duplicatesAreSummedAsScipyDoes() throws {
        let (_, m) = try read("%%MatrixMarket matrix coordinate integer general\n1 2 3\n1 2 1\n1 1 2\n1 2 3\n")
        #expect(m.toDense().values == [2, 4])
    }

    @Test func realAndPatternFieldsPlainText() throws {
        let (_, r) = try read("%%MatrixMarket matrix coordinate real general\n2 2 3\n1 1 0.5\n2 2 -1.25e2\n1 2 3\n", gz: false)
        #expect(r.toDense().values == [0.5, 3, 0, -125])
        let (_, p) = try read("%%MatrixMarket matrix coordinate pattern general\r\n2 2 2\r\n1 2\r\n2 1\r\n", gz: false)
        #expect(p.toDense().values == [0, 1, 1, 0])
    }

    @Test func realValuesRoundLikeScipyThenFloat32() throws {
        let (_, r) = try read("%%MatrixMarket matrix coordinate real general\n1 3 3\n1 1 0.1\n1 2 123456.789\n1 3 1e-7\n")
        #expect(r.values == [Float(0.1), Float(123456.789), Float(1e-7)])
    }

    @Test func headerErrors() {
        expectError("1 2 3\n", .header, line: 1)
        expectError("%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n4\n", .header, line: 1)
        expectError("%%MatrixMarket matrix coordinate real symmetric\n2 2 1\n1 1 1\n", .header, line: 1)
        expectError("%%MatrixMarket matrix coordinate complex general\n2 2 1\n1 1 1 0\n", .header, line: 1)
        expectError("%%MatrixMarket matrix\n", .header, line: 1)
        expectError("", .empty, line: 1)
    }

    @Test func sizeLineErrors() {
        expectError("%%MatrixMarket matrix coordinate integer general\n% c\n2 2\n1 1 1\n", .sizeLine, line: 3)
        expectError("%%MatrixMarket matrix coordinate integer general\n2 x 1\n", .sizeLine, line: 2)
        expectError("%%MatrixMarket matrix coordinate integer general\n2 2 -5\n", .sizeLine, line: 2)
        expectError("%%MatrixMarket matrix coordinate integer general\n", .sizeLine, line: 1)
    }

    @Test func entryCountErrors() {
        expectError("%%MatrixMarket matrix coordinate integer general\n2 2 3\n1 1 1\n2 2 1\n", .entryCount, line: 4)
        expectError("%%MatrixMarket matrix coordinate integer general\n2 2 1\n1 1 1\n2 2 1\n", .entryCount, line: 4)
    }

    @Test func indexErrors() {
        expectError("%%MatrixMarket matrix coordinate integer general\n2 2 1\n0 1 1\n", .index, line: 3)
        expectError("%%MatrixMarket matrix coordinate integer general\n2 2 2\n1 1 1\n1 3 1\n", .index, line: 4)
        expectError("%%MatrixMarket matrix coordinate integer general\n2 2 1\n3 1 1\n", .index, line: 3)
        expectError("%%MatrixMarket matrix coordinate integer general\n2 2 1\n99999999999999999999 1 1\n", .index, line: 3)
    }

    @Test func valueErrors() {
        expectError("%%MatrixMarket matrix coordinate integer general\n2 2 1\n1 1 abc\n", .value, line: 3)
        expectError("%%MatrixMarket matrix coordinate integer general\n2 2 1\n1 1 -3\n", .value, line: 3)
        expectError("%%MatrixMarket matrix coordinate integer general\n2 2 1\n1 1 2.5\n", .value, line: 3)
        expectError("%%MatrixMarket matrix coordinate integer general\n2 2 1\n1 1\n", .value, line: 3)
        expectError("%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 1.0.0\n", .value, line: 3)
        expectError("%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 nan\n", .value, line: 3)
        expectError("%%MatrixMarket matrix coordinate integer general\n2 2 1\n1 1 1 9\n", .value, line: 3)
        expectError("%%MatrixMarket matrix coordinate integer general\n2 2 1\nx 1 1\n", .value, line: 3)
    }

    @Test func emptyMatrixIsAllowedByTheReader() throws {
        let (h, m) = try read("%%MatrixMarket matrix coordinate integer general\n0 0 0\n")
        #expect(h.entries == 0 && m.rows == 0 && m.cols == 0)
    }

    @Test func truncatedAndCorruptGzip() throws {
        var text = "%%MatrixMarket matrix coordinate integer general\n100 100 5000\n"
        for k in 0..<5000 { text += "\(k % 100 + 1) \(k / 50 + 1) \(k % 7 + 1)\n" }
        let p = try files.write("big.mtx.gz", text)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: p))
        #expect(try MatrixMarketReader.read(path: p).matrix.nnz == 5000)

        let truncated = files.path("truncated.mtx.gz")
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: truncated))
        #expect { try MatrixMarketReader.read(path: truncated) } throws: { e in
            (e as? InputError)?.kind == .compression && "\(e)".contains("truncated.mtx.gz")
        }

        var corrupt = bytes
        for i in stride(from: bytes.count / 3, to: bytes.count / 3 + 64, by: 1) { corrupt[i] ^= 0x5A }
        let corruptPath = files.path("corrupt.mtx.gz")
        try corrupt.write(to: URL(fileURLWithPath: corruptPath))
        #expect { try MatrixMarketReader.read(path: corruptPath) } throws: { e in
            (e as? InputError)?.kind == .compression && "\(e)".contains("corrupt.mtx.gz")
        }
    }

    @Test func realCellRangerMatrixMatchesItsHeader() throws {
        let p = TestFiles.mouse10k + "/matrix.mtx.gz"
        guard FileManager.default.fileExists(atPath: p) else { return }
        let (h, m) = try MatrixMarketReader.read(path: p, transpose: true)
        #expect(h == MatrixMarketHeader(field: .integer, rows: 1000, cols: 10000, entries: 691_914))
        #expect(m.rows == 10000 && m.cols == 1000 && m.nnz == 691_914)
        #expect(m.values.allSatisfy { $0 >= 1 && $0.rounded() == $0 })
    }
}
