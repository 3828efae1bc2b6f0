import CellWeaveCore
import RealModule

/// y = x W + b, plus one row of a covariate weight per categorical covariate of the cell: the same
/// as concatenating the one-hot covariates to x (scVI's covariate injection) without the zeros.
/// W is inputs x outputs, row-major. Backward passes accumulate into the gradients.
public final class Linear<T: ModelScalar> {
    public let inputs: Int
    public let outputs: Int
    public let weight: Parameter<T>
    public let bias: Parameter<T>
    public let covariateWeight: Parameter<T>?
    /// Pieces the matrix products are split into (threads).
    public let parts: Int

    /// Initialised as torch.nn.Linear is: uniform in +-1/sqrt(fan-in), the one-hot columns counted in.
    public init(name: String, inputs: Int, outputs: Int, covariateCategories: Int = 0, parts: Int = 1, generator: inout SeededGenerator) {
        self.parts = parts
        self.inputs = inputs
        self.outputs = outputs
        let bound = 1 / Double(inputs + covariateCategories).squareRoot()
        func uniform(_ n: Int) -> [T] { (0..<n).map { _ in T((2 * Double(generator.nextUniformFloat()) - 1) * bound) } }
        weight = Parameter(name: name + ".weight", shape: [inputs, outputs], initial: uniform(inputs * outputs))
        bias = Parameter(name: name + ".bias", shape: [outputs], initial: uniform(outputs))
        covariateWeight = covariateCategories > 0
            ? Parameter(name: name + ".covariate_weight", shape: [covariateCategories, outputs], initial: uniform(covariateCategories * outputs))
            : nil
    }

    public var parameters: [Parameter<T>] { [weight, bias] + (covariateWeight.map { [$0] } ?? []) }

    /// Dense input, rows x inputs. `parts` overrides the split (1 inside an already parallel pass).
    public func forward(_ x: UnsafePointer<T>, rows: Int, categories: UnsafePointer<Int32>?, keys: Int, into y: UnsafeMutablePointer<T>,
                        parts: Int? = nil) {
        fillBiasAndCovariates(rows: rows, categories: categories, keys: keys, into: y)
        T.gemm(parts: parts ?? self.parts, transposeA: false, transposeB: false, m: rows, n: outputs, k: inputs, alpha: 1,
               x, lda: inputs, weight.value.pointer, ldb: outputs, beta: 1, y, ldc: outputs)
    }

    /// Sparse input: row i of x is `batch`'s log1p counts of cell i. One axpy per non-zero, taken
    /// gene by gene so the weight rows are read in order; parts split the output units.
    public func forward(_ batch: SparseBatch<T>, categories: UnsafePointer<Int32>?, keys: Int, into y: UnsafeMutablePointer<T>) {
        fillBiasAndCovariates(rows: batch.rows, categories: categories, keys: keys, into: y)
        let w = weight.value.pointer
        forEachEntryByGene(batch) { weightRow, outputRow, v, width in
            let wr = w + weightRow, out = y + outputRow
            for h in 0..<width { out[h] += v * wr[h] }
        }
    }

    /// Calls body(offset of the gene's weight row, offset of the cell's output row, log1p count,
    /// units) for every non-zero, gene by gene, the offsets shifted to each part's slice of units.
    @inline(__always)
    private func forEachEntryByGene(_ batch: SparseBatch<T>, _ body: (Int, Int, T, Int) -> Void) {
        let n = outputs, parts = self.parts, genes = inputs
        batch.geneStart.withUnsafeBufferPointer { start in
            batch.entryRow.withUnsafeBufferPointer { rows in
                batch.entryLogCount.withUnsafeBufferPointer { values in
                    ParallelLoop.run(parts: parts) { p in
                        let units = ParallelLoop.range(p, of: parts, n), first = units.lowerBound, width = units.count
                        for g in 0..<genes {
                            for k in start[g]..<start[g + 1] { body(g * n + first, Int(rows[k]) * n + first, values[k], width) }
                        }
                    }
                }
            }
        }
    }

    private func fillBiasAndCovariates(rows: Int, categories: UnsafePointer<Int32>?, keys: Int, into y: UnsafeMutablePointer<T>) {
        let b = bias.value.pointer, n = outputs
        for i in 0..<rows {
            let out = y + i * n
            out.update(from: b, count: n)
            if let covariates = covariateWeight?.value.pointer, let categories {
                for k in 0..<keys {
                    let row = covariates + Int(categories[i * keys + k]) * n
                    for h in 0..<n { out[h] += row[h] }
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

    /// The sparse-input backward: dW[g] += log1p(x_cg) dy[c] at the non-zeros only.
    public func backward(_ dy: UnsafePointer<T>, input batch: SparseBatch<T>, categories: UnsafePointer<Int32>?, keys: Int) {
        let dw = weight.gradient.pointer
        forEachEntryByGene(batch) { weightRow, outputRow, v, width in
            let row = dw + weightRow, g = dy + outputRow
            for h in 0..<width { row[h] += v * g[h] }
        }
        accumulateBiasAndCovariates(dy, rows: batch.rows, categories: categories, keys: keys)
    }

    private func accumulateBiasAndCovariates(_ dy: UnsafePointer<T>, rows: Int, categories: UnsafePointer<Int32>?, keys: Int) {
        let db = bias.gradient.pointer, n = outputs
        for i in 0..<rows {
            let g = dy + i * n
            for h in 0..<n { db[h] += g[h] }
            if let covariates = covariateWeight?.gradient.pointer, let categories {
                for k in 0..<keys {
                    let row = covariates + Int(categories[i * keys + k]) * n
                    for h in 0..<n { row[h] += g[h] }
                }
            }
        }
    }
}
