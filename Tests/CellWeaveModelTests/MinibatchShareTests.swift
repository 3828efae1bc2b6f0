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
    /// A sharded optimizer: the parameters' concatenation cut in one part per process, on Adam's
    /// vectors, and each process's step over its part updates it exactly as a whole step does.
    @Test(arguments: [1, 2, 3, 5])
    func optimizerPartsStepAsTheWholeStep(processes: Int) {
        let shapes = [[13, 7], [128], [3], [9, 5], [1]]
        let parts = Trainer.optimizerParts(counts: shapes.map { $0.reduce(1, *) }, processes: processes)
        let total = shapes.map { $0.reduce(1, *) }.reduce(0, +)
        #expect(parts.count == processes && parts.first?.lowerBound == 0 && parts.last?.upperBound == total)
        #expect(zip(parts, parts.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
        func model(_ seed: UInt64) -> [Parameter<Float>] {
            var g = SeededGenerator(seed: seed)
            return shapes.enumerated().map { k, shape in
                let p = Parameter<Float>(name: "p\(k)", shape: shape, initial: (0..<shape.reduce(1, *)).map { _ in Float(g.nextGaussian()) })
                return p
            }
        }
        func setGradients(_ parameters: [Parameter<Float>], step: Int) {
            var g = SeededGenerator(seed: 100 + UInt64(step))
            for p in parameters { for k in 0..<p.count { p.gradient[k] = Float(g.nextGaussian()) } }
        }
        let whole = model(1), adam = Adam(parameters: whole, learningRate: 0.01)
        let shards = parts.map { _ in model(1) }, adams = shards.map { Adam(parameters: $0, learningRate: 0.01, parts: 2) }
        for step in 0..<3 {
            setGradients(whole, step: step)
            let norm = zip(adams, parts).map { a, part -> Double in
                setGradients(a.parameters, step: step)
                return a.squaredGradientSum(elements: part)
            }.reduce(0, +).squareRoot()
            #expect(abs(norm - adam.gradientNorm()) <= 1e-6 * norm)
            // The same norm for both (its sum's grouping differs in the last bits), clipping active.
            #expect(norm > 1.5)
            adam.step(clipNorm: 1.5, norm: norm)
            for (a, part) in zip(adams, parts) { a.step(clipNorm: 1.5, norm: norm, elements: part) }
            // Each process's part of the weights, assembled, is the whole step's (then shared, as the trainer does).
            var offset = 0
            for (k, p) in whole.enumerated() {
                for e in 0..<p.count {
                    let owner = parts.firstIndex { $0.contains(offset + e) }!
                    #expect(shards[owner][k].value[e] == p.value[e], "\(p.name)[\(e)] at step \(step)")
                    for other in shards.indices { shards[other][k].value[e] = p.value[e] }
                }
                offset += p.count
            }
        }
    }
}
