import CellWeaveCore
import RealModule

/// y = x W + b, plus one row of a covariate weight per categorical covariate of the cell: the same
/// as concatenating the one-hot covariates to x (scVI's covariate injection) without the zeros.
/// W is inputs x outputs, row-major. Backward passes accumulate into the gradients. The linear
/// decoder's maps have no bias: the batch norm right after them has a shift, and a bias there
/// would get a zero gradient that Adam turns into drift.
public final class Linear<T: ModelScalar> {
    public let inputs: Int
    public let outputs: Int
    public let weight: Parameter<T>
    public let bias: Parameter<T>?
    public let covariateWeight: Parameter<T>?
    /// Pieces the matrix products are split into (threads).
    public let parts: Int
    /// Per-part accumulators of the sparse forward pass (grown on demand).
    private var partialOutputs = Buffer<T>(count: 0)
    /// The last sparse input as dense rows, when it was dense enough for the matrix product.
    private var denseInput = Buffer<T>(count: 0)
    private var lastInputDense = false
    /// When a sparse input's density reaches this, the layer multiplies dense rows instead: above a
    /// few percent the matrix product beats one axpy per non-zero (deep data is 40-50% non-zero).
    public var denseInputAbove = 0.1

    /// Initialised as torch.nn.Linear is: uniform in +-1/sqrt(fan-in), the one-hot columns counted in.
    public init(name: String, inputs: Int, outputs: Int, covariateCategories: Int = 0, bias hasBias: Bool = true, parts: Int = 1,
                generator: inout SeededGenerator) {
        self.parts = parts
        self.inputs = inputs
        self.outputs = outputs
        let bound = 1 / Double(inputs + covariateCategories).squareRoot()
        func uniform(_ n: Int) -> [T] { (0..<n).map { _ in T((2 * Double(generator.nextUniformFloat()) - 1) * bound) } }
        weight = Parameter(name: name + ".weight", shape: [inputs, outputs], initial: uniform(inputs * outputs))
        bias = hasBias ? Parameter(name: name + ".bias", shape: [outputs], initial: uniform(outputs)) : nil
        covariateWeight = covariateCategories > 0
            ? Parameter(name: name + ".covariate_weight", shape: [covariateCategories, outputs], initial: uniform(covariateCategories * outputs))
            : nil
    }

    public var parameters: [Parameter<T>] { [weight] + (bias.map { [$0] } ?? []) + (covariateWeight.map { [$0] } ?? []) }

    /// Dense input, rows x inputs. `parts` overrides the split (1 inside an already parallel pass).
    public func forward(_ x: UnsafePointer<T>, rows: Int, categories: UnsafePointer<Int32>?, keys: Int, into y: UnsafeMutablePointer<T>,
                        parts: Int? = nil) {
        fillBiasAndCovariates(rows: rows, categories: categories, keys: keys, into: y, parts: parts ?? self.parts)
        T.gemm(parts: parts ?? self.parts, transposeA: false, transposeB: false, m: rows, n: outputs, k: inputs, alpha: 1,
               x, lda: inputs, weight.value.pointer, ldb: outputs, beta: 1, y, ldc: outputs)
    }

    /// Sparse input: row i of x is `batch`'s log1p counts of cell i. One axpy per non-zero, gene by
    /// gene; each part takes a range of genes (the weight rows its Adam part updates, so they stay in
    /// that core's cache) into its own accumulator, and the accumulators are summed in part order.
    public func forward(_ batch: SparseBatch<T>, categories: UnsafePointer<Int32>?, keys: Int, into y: UnsafeMutablePointer<T>) {
        let rows = batch.rows, n = outputs, size = rows * n
        // Above a density of a few percent the matrix product on dense rows beats one axpy per non-zero.
        lastInputDense = batch.density >= denseInputAbove
        if lastInputDense {
            if denseInput.count < rows * inputs { denseInput = Buffer(count: rows * inputs) }
            batch.denseLogCounts(into: denseInput.pointer)
            forward(UnsafePointer(denseInput.pointer), rows: rows, categories: categories, keys: keys, into: y)
            return
        }
        batch.prepareGeneView()
        fillBiasAndCovariates(rows: rows, categories: categories, keys: keys, into: y, parts: parts)
        if partialOutputs.count < parts * size { partialOutputs = Buffer(count: parts * size) }
        let w = weight.value.pointer, partial = partialOutputs.pointer
        forEachGenePart(batch) { p, genes, start, rows, values in
            (partial + p * size).update(repeating: 0, count: size)
            T.sparseForwardByGene(start: start, rows: rows, values: values, genes: genes, weight: w, into: partial + p * size, width: n)
        }
        for p in 0..<parts {
            let acc = partial + p * size
            for k in 0..<size { y[k] += acc[k] }
        }
    }

    /// Calls body(part, its range of genes, the gene view's entry starts, rows and log1p counts)
    /// for each part, in parallel.
    @inline(__always)
    private func forEachGenePart(_ batch: SparseBatch<T>,
                                 _ body: (Int, Range<Int>, UnsafeBufferPointer<Int>, UnsafeBufferPointer<Int32>, UnsafeBufferPointer<T>) -> Void) {
        let parts = self.parts, genes = inputs
        batch.geneStart.withUnsafeBufferPointer { start in
            batch.entryRow.withUnsafeBufferPointer { rows in
                batch.entryLogCount.withUnsafeBufferPointer { values in
                    ParallelLoop.run(parts: parts) { p in
                        body(p, ParallelLoop.range(p, of: parts, genes), start, rows, values)
                    }
                }
            }
        }
    }

    /// Each output row starts as the bias plus the cell's covariate rows; the rows are split across
    /// `parts` threads (each row's sum in the same order).
    private func fillBiasAndCovariates(rows: Int, categories: UnsafePointer<Int32>?, keys: Int, into y: UnsafeMutablePointer<T>, parts: Int) {
        let b = bias?.value.pointer, n = outputs, covariates = covariateWeight?.value.pointer
        ParallelLoop.forEachRange(of: rows, parts: parts, values: rows * n) { range in
            for i in range {
                let out = y + i * n
                if let b { out.update(from: b, count: n) } else { out.update(repeating: 0, count: n) }
                if let covariates, let categories {
                    for k in 0..<keys {
                        let row = covariates + Int(categories[i * keys + k]) * n
                        for h in 0..<n { out[h] += row[h] }
                    }
                }
            }
        }
    }

    /// Accumulates dW, db and the covariate rows from dy (rows x outputs); writes dx if asked.
    public func backward(_ dy: UnsafePointer<T>, input x: UnsafePointer<T>, rows: Int, categories: UnsafePointer<Int32>?, keys: Int,
                         inputGradient dx: UnsafeMutablePointer<T>?) {
        accumulateGradients(dy, input: x, rows: rows, categories: categories, keys: keys)
        if let dx { inputGradient(dy, rows: rows, into: dx) }
    }

    /// dW += x^T dy, db and the covariate rows += dy.
    public func accumulateGradients(_ dy: UnsafePointer<T>, input x: UnsafePointer<T>, rows: Int, categories: UnsafePointer<Int32>?, keys: Int) {
        T.gemm(parts: parts, transposeA: true, transposeB: false, m: inputs, n: outputs, k: rows, alpha: 1,
               x, lda: inputs, dy, ldb: outputs, beta: 1, weight.gradient.pointer, ldc: outputs)
        accumulateBiasAndCovariates(dy, rows: rows, categories: categories, keys: keys)
    }

    /// dx = dy W^T (or dx += with `accumulate`).
    public func inputGradient(_ dy: UnsafePointer<T>, rows: Int, into dx: UnsafeMutablePointer<T>, accumulate: Bool = false, parts: Int? = nil) {
        T.gemm(parts: parts ?? self.parts, transposeA: false, transposeB: true, m: rows, n: inputs, k: outputs, alpha: 1,
               dy, lda: outputs, weight.value.pointer, ldb: outputs, beta: accumulate ? 1 : 0, dx, ldc: inputs)
    }

    /// The sparse-input backward: dW[g] += log1p(x_cg) dy[c] at the non-zeros only; each part
    /// writes the rows of its genes.
    public func backward(_ dy: UnsafePointer<T>, input batch: SparseBatch<T>, categories: UnsafePointer<Int32>?, keys: Int) {
        if lastInputDense {
            accumulateGradients(dy, input: UnsafePointer(denseInput.pointer), rows: batch.rows, categories: categories, keys: keys)
            return
        }
        let dw = weight.gradient.pointer, n = outputs
        forEachGenePart(batch) { _, genes, start, rows, values in
            T.sparseWeightGradientByGene(start: start, rows: rows, values: values, genes: genes, outputGradient: dy, into: dw, width: n)
        }
        accumulateBiasAndCovariates(dy, rows: batch.rows, categories: categories, keys: keys)
    }

    /// Split by columns across the threads (each column's sum still runs over the rows in order:
    /// the same values); the output layer's 128 x 2,000 sums were a serial stretch of each step.
    private func accumulateBiasAndCovariates(_ dy: UnsafePointer<T>, rows: Int, categories: UnsafePointer<Int32>?, keys: Int) {
        let db = bias?.gradient.pointer, covariates = covariateWeight?.gradient.pointer, n = outputs
        guard db != nil || (covariates != nil && categories != nil) else { return }
        ParallelLoop.forEachRange(of: n, parts: parts, values: rows * n) { columns in
            for i in 0..<rows {
                let g = dy + i * n
                if let db { for h in columns { db[h] += g[h] } }
                if let covariates, let categories {
                    for k in 0..<keys {
                        let row = covariates + Int(categories[i * keys + k]) * n
                        for h in columns { row[h] += g[h] }
                    }
                }
            }
        }
    }
}
