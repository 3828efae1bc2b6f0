import CellWeaveCore
import CellWeaveSimulation
import Testing

@Suite struct CountSimulatorTests {
    func small() -> CountSimulator {
        var s = CountSimulator()
        s.cells = 600
        s.genes = 200
        return s
    }

    @Test func sameSeedSameCounts() throws {
        let a = try small().simulate(seed: 1), b = try small().simulate(seed: 1), c = try small().simulate(seed: 2)
        #expect(a.x == b.x && a.obs == b.obs)
        #expect(a.x != c.x)
    }

    /// Cells handed over in blocks as drawn are the cells of the whole matrix, the rest alike.
    @Test func blocksAreTheWholeMatrixInPieces() throws {
        let whole = try small().simulate(seed: 3)
        var parts: [CSRMatrix] = []
        let rest = try small().simulate(seed: 3, blockCells: 250) { parts.append($0) }
        #expect(parts.map(\.rows) == [250, 250, 100] && !rest.hasX && rest.obs == whole.obs && rest.varTable == whole.varTable)
        let x = whole.x.toCSR()
        #expect(try parts.enumerated().allSatisfy { k, part in try x.rows((k * 250)..<(k * 250 + part.rows)) == part })
    }

    @Test func labelsAndShape() throws {
        let a = try small().simulate(seed: 4)
        #expect(a.nObs == 600 && a.nVars == 200)
        guard case let .categorical(types, .strings(typeNames), _)? = a.obs["cell_type"],
              case let .categorical(batches, .strings(batchNames), _)? = a.obs["batch"] else {
            Issue.record("missing labels")
            return
        }
        #expect(typeNames.count == 4 && batchNames.count == 3)
        #expect(Set(types).count == 4 && Set(batches).count == 3)
        #expect(a.x.storedValues.allSatisfy { $0 >= 1 && $0.rounded() == $0 })
        // Library sizes follow the log-normal: the median total is near exp(7.5).
        let totals = a.x.toCSR().rowSums().sorted()
        #expect(abs(totals[totals.count / 2] / 1808 - 1) < 0.1)
    }

    @Test func batchEffectsShiftGeneMeansBetweenBatches() throws {
        func spread(_ effect: Double) throws -> Double {
            var s = small()
            s.batchEffect = effect
            s.cellTypes = 1
            let a = try s.simulate(seed: 9)
            guard case let .categorical(batches, _, _)? = a.obs["batch"] else { return .nan }
            let x = a.x.toCSR()
            // Mean over genes of |log ratio| of each gene's mean in batch 0 and batch 1.
            let rows0 = batches.indices.filter { batches[$0] == 0 }, rows1 = batches.indices.filter { batches[$0] == 1 }
            let m0 = try x.selectingRows(rows0).columnSums().map { $0 / Double(rows0.count) }
            let m1 = try x.selectingRows(rows1).columnSums().map { $0 / Double(rows1.count) }
            let informative = (0..<m0.count).filter { m0[$0] > 5 && m1[$0] > 5 }
            return informative.map { abs(log(m0[$0] / m1[$0])) }.reduce(0, +) / Double(informative.count)
        }
        #expect(try spread(0) < 0.1)
        #expect(try spread(0.5) > 0.3)
    }
}

#if canImport(Glibc)
import Glibc
#endif
