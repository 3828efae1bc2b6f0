import CellWeaveCore
@testable import CellWeaveModel
import Testing

/// Training runs in Float through C kernels (CVectorMath); the gradient checks run the Swift ones in
/// Double. These tests tie the two together: the same inputs give the same results up to Float's
/// rounding.
@Suite struct ElementKernelTests {
    /// Values in (-1, 1) from a seed, as Float and as the same numbers in Double.
    static func values(_ n: Int, seed: UInt64) -> ([Float], [Double]) {
        var rng = SeededGenerator(seed: seed)
        let f = (0..<n).map { _ in Float(2 * rng.nextUniformFloat() - 1) }
        return (f, f.map(Double.init))
    }

    /// Adam over 40,003 parameters (split in two parts, not a multiple of 8), five steps with
    /// fresh gradients, the second clipped: Float's update is Double's to 1e-5 of the weights' scale,
    /// and leaves the gradients zero.
    @Test func adamInFloatIsAdamInDouble() {
        let n = 40_003
        let (w0, w0d) = Self.values(n, seed: 1)
        let f = Parameter<Float>(name: "w", shape: [n], initial: w0), d = Parameter<Double>(name: "w", shape: [n], initial: w0d)
        let adamF = Adam(parameters: [f], learningRate: 0.01, parts: 2), adamD = Adam(parameters: [d], learningRate: 0.01, parts: 2)
        for step in 0..<5 {
            let (g, gd) = Self.values(n, seed: 10 + UInt64(step))
            f.gradient.assign(g)
            d.gradient.assign(gd)
            adamF.step(clipNorm: step == 1 ? 1 : nil)
            adamD.step(clipNorm: step == 1 ? 1 : nil)
        }
        let difference = zip(f.value.array, d.value.array).map { abs(Double($0) - $1) }.max()!
        #expect(difference < 1e-5)
        #expect(f.gradient.array.allSatisfy { $0 == 0 } && d.gradient.array.allSatisfy { $0 == 0 })
        #expect(zip(w0d, d.value.array).contains { $0 != $1 })
    }

    /// The sparse layer's forward pass and weight gradient, Float (C) against Double (Swift), on a
    /// batch of real gene view entries split over three parts of the genes.
    @Test func sparseLayerInFloatIsTheLayerInDouble() {
        let genes = 37, hidden = 21
        let data = ModelTestData.data(cells: 9, genes: genes, categoryCounts: [2], seed: 5)
        func run<T: ModelScalar>(_: T.Type) -> (y: [T], dw: [T]) {
            let batch = ModelTestData.batch(data, T.self)
            var generator = SeededGenerator(seed: 6)
            let layer = Linear<T>(name: "l", inputs: genes, outputs: hidden, covariateCategories: 2, parts: 3, generator: &generator)
            layer.denseInputAbove = 2  // the sparse path whatever the density
            let y = Buffer<T>(count: batch.rows * hidden)
            batch.categories.withUnsafeBufferPointer { layer.forward(batch, categories: $0.baseAddress, keys: 1, into: y.pointer) }
            let dy = Buffer<T>((0..<(batch.rows * hidden)).map { T(Double($0 % 7) - 3) / 5 })
            batch.categories.withUnsafeBufferPointer { layer.backward(UnsafePointer(dy.pointer), input: batch, categories: $0.baseAddress, keys: 1) }
            return (y.array, layer.weight.gradient.array)
        }
        let (yF, dwF) = run(Float.self), (yD, dwD) = run(Double.self)
        #expect(zip(yF, yD).allSatisfy { abs(Double($0) - $1) < 1e-5 * max(1, abs($1)) })
        #expect(zip(dwF, dwD).allSatisfy { abs(Double($0) - $1) < 1e-5 * max(1, abs($1)) })
        #expect(dwD.contains { $0 != 0 })
    }
}
