import CellWeaveCore
import CellWeavePreprocess
import Testing

@Suite struct PearsonResidualsTests {
    let counts = try! CSRMatrix(rows: 3, cols: 2, indptr: [0, 2, 3, 4], indices: [0, 1, 0, 1], values: [1, 3, 4, 2])

    @Test func matchesTheFormula() throws {
        let r = try PearsonResiduals(counts: counts, theta: 100, clip: 100)
        let dense = r.dense(counts)
        let x: [[Double]] = [[1, 3], [4, 0], [0, 2]]
        let cells = [4.0, 4, 2], genes = [5.0, 5], total = 10.0
        for c in 0..<3 {
            for g in 0..<2 {
                let mu = cells[c] * genes[g] / total
                let expected = (x[c][g] - mu) / (mu + mu * mu / 100).squareRoot()
                #expect(abs(Double(dense[c, g]) - expected) < 1e-6)
            }
        }
    }

    @Test func clipsAtTheSquareRootOfCellsByDefault() throws {
        let r = try PearsonResiduals(counts: counts)
        #expect(r.clip == 3.0.squareRoot())
        #expect(r.dense(counts).values.allSatisfy { abs($0) <= Float(r.clip) + 1e-6 })
    }

    @Test func refusesEmptyCellsGenesAndFractions() throws {
        let emptyGene = try CSRMatrix(rows: 2, cols: 2, indptr: [0, 1, 2], indices: [0, 0], values: [1, 2])
        #expect(throws: PreprocessError.emptyGenes(count: 1, first: 1)) { try PearsonResiduals(counts: emptyGene) }
        let emptyCell = try CSRMatrix(rows: 2, cols: 1, indptr: [0, 1, 1], indices: [0], values: [1])
        #expect(throws: PreprocessError.emptyCells(count: 1, first: 1)) { try PearsonResiduals(counts: emptyCell) }
        let fraction = try CSRMatrix(rows: 1, cols: 1, indptr: [0, 1], indices: [0], values: [0.5])
        #expect(throws: PreprocessError.nonIntegerCounts(example: 0.5)) { try PearsonResiduals(counts: fraction) }
    }
}
