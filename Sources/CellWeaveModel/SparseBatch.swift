import CellWeaveCore

/// A minibatch gathered from the CSR counts: per cell its non-zeros (gene, count, log1p(count),
/// log(count!)), its library size and its covariate categories. The arrays keep their capacity
/// between steps, so gathering allocates only while batches grow.
public final class SparseBatch<T: ModelScalar> {
    public private(set) var rows = 0
    public private(set) var rowStart: [Int] = [0]
    public private(set) var genes: [Int32] = []
    public private(set) var counts: [T] = []
    public private(set) var logCounts: [T] = []
    /// log(x!) per non-zero, for the likelihood's value.
    public private(set) var logFactorials: [Double] = []
    public private(set) var library: [T] = []
    /// rows x covariate keys, each code already offset into the concatenated category list.
    public private(set) var categories: [Int32] = []
    public private(set) var cells: [Int] = []
    public let covariateKeys: Int

    public init(covariateKeys: Int) { self.covariateKeys = covariateKeys }

    /// Moves an array out (emptied, capacity kept) so it can be appended to without copies.
    private func take<E>(_ a: inout [E]) -> [E] {
        var out: [E] = []
        swap(&out, &a)
        out.removeAll(keepingCapacity: true)
        return out
    }

    /// Gathers the selected cells of `data`, in order.
    public func gather<C: Collection>(_ data: TrainingData, cells selected: C) where C.Element == Int {
        // Local arrays while appending: class properties would pay an exclusivity check per element.
        var rowStart = take(&self.rowStart), genes = take(&self.genes), counts = take(&self.counts)
        var logCounts = take(&self.logCounts), logFactorials = take(&self.logFactorials), library = take(&self.library)
        var categories = take(&self.categories), cells = take(&self.cells)
        rowStart.append(0)
        let indptr = data.counts.indptr, indices = data.counts.indices, values = data.counts.values
        let codes = data.categoryCodes
        for c in selected {
            var total: T = 0
            for k in indptr[c]..<indptr[c + 1] {
                let value = values[k], x = T(value)
                genes.append(indices[k])
                counts.append(x)
                logCounts.append(T(CountTables.log1p(value)))
                logFactorials.append(CountTables.logFactorial(value))
                total += x
            }
            rowStart.append(genes.count)
            library.append(total)
            for key in 0..<covariateKeys { categories.append(codes[key][c]) }
            cells.append(c)
        }
        rows = cells.count
        (self.rowStart, self.genes, self.counts, self.logCounts) = (rowStart, genes, counts, logCounts)
        (self.logFactorials, self.library, self.categories, self.cells) = (logFactorials, library, categories, cells)
    }
}
