import CellWeaveCore

/// A process's part of a global minibatch in data-parallel training: the minibatch has `cells`
/// cells over all processes, and this process's rows are those at `positions`. Losses are means
/// over all the cells, and every random draw of a row is the one a single process makes for that
/// position, so N processes draw what one does.
public struct MinibatchShare {
    public var cells: Int
    public var positions: [Int]
    /// The rows by ascending position (the stream of draws is read forwards); empty when the
    /// positions ascend already.
    public var rowsByPosition: [Int]

    public init(cells: Int, positions: [Int], rowsByPosition: [Int] = []) {
        precondition(rowsByPosition.isEmpty || rowsByPosition.count == positions.count)
        self.cells = cells
        self.positions = positions
        self.rowsByPosition = rowsByPosition
    }

    /// body(row, position) for each row, by ascending position.
    private func forEachRow(_ body: (Int, Int) -> Void) {
        if rowsByPosition.isEmpty {
            for (i, p) in positions.enumerated() { body(i, p) }
        } else {
            for i in rowsByPosition { body(i, positions[i]) }
        }
    }

    /// Standard normals, `count` per row (rows x count), each the one `nextGaussian` gives its
    /// position when a single process draws every row in order.
    func gaussians<T: ModelScalar>(into out: UnsafeMutablePointer<T>, count: Int, generator: inout SeededGenerator) {
        var words = Words(generator: generator)
        forEachRow { i, p in
            for j in 0..<count {
                let e = p * count + j
                out[i * count + j] = T(SeededGenerator.gaussian(words.word(2 * e), words.word(2 * e + 1)))
            }
        }
        words.skip(to: 2 * cells * count)
        generator = words.generator
    }

    /// Dropout in place on rows x count values, with the mask a single process draws for the
    /// whole minibatch: two 32-bit uniforms a word, compared with `threshold`; kept values scaled.
    func dropout<T: ModelScalar>(_ y: UnsafeMutablePointer<T>, count: Int, threshold: UInt32, scale: T, generator: inout SeededGenerator) {
        var words = Words(generator: generator)
        forEachRow { i, p in
            for j in 0..<count {
                let e = p * count + j, word = words.word(e / 2)
                let bits = UInt32(truncatingIfNeeded: e % 2 == 0 ? word : word >> 32)
                y[i * count + j] *= bits < threshold ? 0 : scale
            }
        }
        words.skip(to: (cells * count + 1) / 2)
        generator = words.generator
    }

    /// The generator's stream read by index, forwards.
    struct Words {
        var generator: SeededGenerator
        private var drawn = 0, last: UInt64 = 0

        init(generator: SeededGenerator) { self.generator = generator }

        /// Word `index` of the stream (indices never go back past the last one read).
        mutating func word(_ index: Int) -> UInt64 {
            precondition(index >= drawn - 1, "the stream is read forwards")
            while drawn <= index { last = generator.next(); drawn += 1 }
            return last
        }

        mutating func skip(to count: Int) { while drawn < count { _ = generator.next(); drawn += 1 } }
    }
}
