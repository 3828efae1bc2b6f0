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

    /// The negative binomial's row pass, Float (C) against Double (Swift): per-cell log-likelihoods
    /// and the logit and log theta gradients, on 37 genes (not a multiple of 8), two dispersion rows,
    /// row weights, and counts inside the gamma tables, beyond them (17...60) and not integers; without
    /// gradients the log-likelihoods are the same bits.
    @Test func negativeBinomialRowInFloatIsTheRowInDouble() {
        let genes = 37, cells = 7
        var rng = SeededGenerator(seed: 8)
        var indptr = [0], indices: [Int32] = [], values: [Float] = []
        for _ in 0..<cells {
            for j in 0..<genes where rng.nextUniformFloat() < 0.5 {
                indices.append(Int32(j))
                let u = rng.nextUniformFloat()
                values.append(u < 0.6 ? Float(1 + Int(u * 25)) : u < 0.9 ? Float(17 + Int(u * 40)) : 2.5)
            }
            indptr.append(indices.count)
        }
        let counts = CSRMatrix(uncheckedRows: cells, cols: genes, indptr: indptr, indices: indices, values: values)
        let data = TrainingData(counts: counts, codes: [(0..<cells).map { Int32($0 % 2) }], categoryCounts: [2])
        let logits = (0..<(cells * genes)).map { _ in Double(Float(rng.nextGaussian())) }
        let logTheta = (0..<(2 * genes)).map { _ in Double(Float(rng.nextGaussian())) }
        let weights = (0..<cells).map { Double(1 + $0 % 2) }
        func run<T: ModelScalar>(_: T.Type, gradients: Bool) -> (ll: [Double], dz: [T], dt: [T]) {
            let batch = ModelTestData.batch(data, T.self)
            let z = Buffer<T>(logits.map { T($0) }), lt = Buffer<T>(logTheta.map { T($0) }), w = Buffer<T>(weights.map { T($0) })
            let dz = Buffer<T>(count: cells * genes), dt = Buffer<T>(count: 2 * genes), ll = Buffer<Double>(count: cells)
            CountLikelihood.nb.minibatch(batch, logits: z.pointer, dropoutLogits: nil, logTheta: lt.pointer, dispersion: .geneBatch,
                                         gradientScale: 0.5, rowWeights: w.pointer, logitGradient: gradients ? dz.pointer : nil,
                                         dropoutGradient: nil, logThetaGradient: gradients ? dt.pointer : nil, rowLogLikelihood: ll.pointer,
                                         workspace: LikelihoodWorkspace(genes: genes, dispersionRows: 2, parts: 2))
            return (ll.array, dz.array, dt.array)
        }
        let f = run(Float.self, gradients: true), d = run(Double.self, gradients: true)
        #expect(values.contains { $0 > 16 } && values.contains { $0 != $0.rounded() })
        #expect(zip(f.ll, d.ll).allSatisfy { abs($0 - $1) < 1e-5 * max(1, abs($1)) })
        #expect(zip(f.dz, d.dz).allSatisfy { abs(Double($0) - $1) < 1e-4 * max(1, abs($1)) })
        #expect(zip(f.dt, d.dt).allSatisfy { abs(Double($0) - $1) < 1e-4 * max(1, abs($1)) })
        #expect(d.dt.contains { $0 != 0 } && d.dz.contains { $0 != 0 })
        #expect(run(Float.self, gradients: false).ll == f.ll)
    }

    /// The gather from the CSR, Float (C) against Double (Swift), over two parts, with rows repeated
    /// and counts in the tables, beyond them (5,000) and not integers.
    @Test func gatherInFloatIsTheGatherInDouble() {
        let values: [Float] = [1, 2, 5000, 0.5, 3, 7, 4095, 4096, 2.25, 1, 12, 30, 1, 1, 8, 2, 6, 9.5]
        let indptr = [0, 3, 5, 9, 12, 15, 18], indices: [Int32] = [0, 2, 4, 1, 3, 0, 1, 2, 4, 2, 3, 4, 0, 1, 2, 1, 3, 4]
        let counts = CSRMatrix(uncheckedRows: 6, cols: 5, indptr: indptr, indices: indices, values: values)
        let data = TrainingData(counts: counts, codes: [[0, 1, 0, 1, 0, 1]], categoryCounts: [2])
        let cells = [5, 0, 2, 2, 4, 1, 3, 0] + Array(repeating: 2, count: 30)
        func run<T: ModelScalar>(_: T.Type) -> SparseBatch<T> {
            let batch = SparseBatch<T>(covariateKeys: 1)
            batch.parts = 2
            batch.gather(data, cells: cells)
            return batch
        }
        let f = run(Float.self), d = run(Double.self)
        #expect(f.rowStart == d.rowStart && f.genes == d.genes && f.integerCounts == d.integerCounts && f.logFactorials == d.logFactorials)
        #expect(f.counts.map(Double.init) == d.counts)
        #expect(zip(f.logCounts, d.logCounts).allSatisfy { abs(Double($0) - $1) < 1e-6 * max(1, $1) })
        #expect(zip(f.library, d.library).allSatisfy { abs(Double($0) - $1) < 1e-6 * $1 })
        #expect(f.integerCounts.contains(-1) && f.integerCounts.contains(4095) && f.rows == cells.count)
    }
}
