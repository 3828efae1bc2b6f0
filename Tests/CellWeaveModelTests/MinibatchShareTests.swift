import CellWeaveCore
@testable import CellWeaveModel
import Testing

/// Data-parallel training draws, for each process's rows, what one process draws for the whole
/// minibatch, and leaves the generator where that process leaves it.
@Suite struct MinibatchShareTests {
    /// Positions 0..<cells dealt to `processes` by a seeded draw, as cells held by ranks fall.
    private func deal(_ cells: Int, processes: Int) -> [[Int]] {
        var g = SeededGenerator(seed: 9), shares = Array(repeating: [Int](), count: processes)
        for p in 0..<cells { shares[Int(g.next() % UInt64(processes))].append(p) }
        return shares
    }

    @Test func sharesDrawTheWholeMinibatchsNormals() {
        let cells = 37, width = 10
        var whole = SeededGenerator(seed: 4)
        let expected = (0..<(cells * width)).map { _ in Float(whole.nextGaussian()) }
        for shares in [deal(cells, processes: 2), deal(cells, processes: 3), [Array(0..<cells), []]] {
            var assembled = [Float](repeating: .nan, count: cells * width)
            for positions in shares {
                var g = SeededGenerator(seed: 4)
                var out = [Float](repeating: 0, count: positions.count * width)
                MinibatchShare(cells: cells, positions: positions).gaussians(into: &out, count: width, generator: &g)
                for (i, p) in positions.enumerated() { assembled.replaceSubrange(p * width..<(p + 1) * width, with: out[i * width..<(i + 1) * width]) }
                #expect(g.stateWords == whole.stateWords, "every process leaves the generator where one process does")
            }
            #expect(assembled == expected)
        }
    }

    /// A hidden layer's dropout on a process's rows is that of the same rows in the whole minibatch.
    @Test func sharesDropWhatTheWholeMinibatchDrops() {
        // An odd width, so that one word's two uniforms fall in different rows.
        let cells = 21, inputs = 3, width = 7
        var initial = SeededGenerator(seed: 1)
        let layer = HiddenLayer<Float>(name: "h", inputs: inputs, outputs: width, covariateCategories: 0, normalization: .none,
                                       dropoutRate: 0.3, capacity: cells, generator: &initial)
        let x = (0..<(cells * inputs)).map { Float($0 % 5) + 0.5 }
        func forward(_ rows: [Int], share: MinibatchShare?, generator: inout SeededGenerator) -> [Float] {
            let input = rows.flatMap { x[$0 * inputs..<($0 + 1) * inputs] }
            input.withUnsafeBufferPointer { layer.forward(.dense($0.baseAddress!), rows: rows.count, categories: nil, keys: 0, training: true,
                                                          share: share, generator: &generator) }
            return Array(UnsafeBufferPointer(start: layer.output.pointer, count: rows.count * width))
        }
        var whole = SeededGenerator(seed: 6)
        let expected = forward(Array(0..<cells), share: nil, generator: &whole)
        #expect(expected.contains(0) && expected.contains { $0 > 0 })
        for shares in [[Array(0..<cells)], deal(cells, processes: 2), deal(cells, processes: 4)] {
            var assembled = [Float](repeating: .nan, count: cells * width)
            for positions in shares {
                var g = SeededGenerator(seed: 6)
                let y = forward(positions, share: MinibatchShare(cells: cells, positions: positions), generator: &g)
                for (i, p) in positions.enumerated() { assembled.replaceSubrange(p * width..<(p + 1) * width, with: y[i * width..<(i + 1) * width]) }
                #expect(g.stateWords == whole.stateWords)
            }
            #expect(assembled == expected)
        }
    }
}
