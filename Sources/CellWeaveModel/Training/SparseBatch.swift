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
    /// The count as an integer per non-zero, or -1 when it is not a small non-negative integer
    /// (`CountTables.size`): the likelihood's table lookups need no conversion from floating point.
    public private(set) var integerCounts: [Int32] = []
    public private(set) var library: [T] = []
    /// rows x covariate keys, each code already offset into the concatenated category list.
    public private(set) var categories: [Int32] = []
    public private(set) var cells: [Int] = []
    /// The matrix row each batch row came from (the cell's row in its modality's matrix).
    private var sourceRows: [Int] = []
    /// The same non-zeros ordered by gene (a CSC view): entries geneStart[g]..<geneStart[g + 1]
    /// hold gene g's rows (within the batch) and log1p counts. The sparse layer walks its weight
    /// rows in order through this view instead of jumping between them cell by cell. Built on
    /// first use after each gather (`prepareGeneView`): a dense input layer never needs it.
    public private(set) var geneStart: [Int] = []
    public private(set) var entryRow: [Int32] = []
    public private(set) var entryLogCount: [T] = []
    private var geneViewReady = false
    /// Columns of the matrix the batch came from.
    public private(set) var features = 0
    public let covariateKeys: Int
    /// In data-parallel training, this process's part of the global minibatch (nil: the whole).
    public var share: MinibatchShare?
    /// Threads a gather from the CSR is split into (by rows; the values do not depend on it).
    public var parts = 1
    private static var rowsPerPart: Int { 16 }

    public init(covariateKeys: Int) { self.covariateKeys = covariateKeys }

    /// Sets an array's length (capacity kept), so it can be filled through a buffer pointer.
    private static func resize<E>(_ a: inout [E], to n: Int, _ zero: E) {
        if a.count > n { a.removeLast(a.count - n) } else if a.count < n { a.append(contentsOf: repeatElement(zero, count: n - a.count)) }
    }

    /// A batch of n rows: the per-row arrays at their lengths, the share cleared.
    private func setRows(_ n: Int) {
        rows = n
        share = nil
        Self.resize(&rowStart, to: n + 1, 0)
        Self.resize(&cells, to: n, 0)
        Self.resize(&sourceRows, to: n, 0)
        Self.resize(&categories, to: n * covariateKeys, 0)
    }

    /// Gathers the selected cells of `data`, in order.
    public func gather<C: Collection>(_ data: TrainingData, cells selected: C) where C.Element == Int {
        gather(data.counts, rows: selected, cells: selected, codes: data.categoryCodes)
    }

    /// Gathers rows of `counts` (a modality's matrix), in order, each with the covariate codes of
    /// the cell it belongs to (`cells`, parallel to `rows`); rows and cells may repeat. `appending`:
    /// after the rows already gathered (data-parallel training's cells from other processes).
    public func gather<R: Collection, C: Collection>(_ matrix: CSRMatrix, rows selectedRows: R, cells selected: C, codes: [[Int32]],
                                                     appending: Bool = false)
    where R.Element == Int, C.Element == Int {
        let indptr = matrix.indptr, indices = matrix.indices, values = matrix.values
        let keys = covariateKeys
        precondition(selectedRows.count == selected.count && (!appending || features == matrix.cols))
        // Per cell first (offsets, covariates), then every non-zero through buffer pointers.
        let first = appending ? rows : 0
        var nnz = appending ? rowStart[rows] : 0
        setRows(first + selected.count)
        withRowArrays { rowStart, cells, sourceRows, categories in
            for (k, (r, c)) in zip(selectedRows, selected).enumerated() {
                let i = first + k
                rowStart[i] = nnz
                nnz += indptr[r + 1] - indptr[r]
                cells[i] = c
                sourceRows[i] = r
                for key in 0..<keys { categories[i * keys + key] = codes[key][c] }
            }
            rowStart[first + selected.count] = nnz
        }
        resizeEntries(nnz)
        let sourceRows = self.sourceRows, rowStart = self.rowStart, parts = selected.count >= 2 * Self.rowsPerPart ? self.parts : 1
        withEntries { target in
            // Rows are independent, so the split changes no value.
            ParallelLoop.run(parts: parts) { part in
                let local = ParallelLoop.range(part, of: parts, selected.count), range = (first + local.lowerBound)..<(first + local.upperBound)
                if T.self == Float.self {
                    Self.fillInC(rows: range, from: sourceRows, indptr: indptr, indices: indices, values: values, at: rowStart, into: target)
                    return
                }
                for i in range {
                    Self.fill(row: i, from: sourceRows[i], indptr: indptr, indices: indices, values: values, at: rowStart[i], into: target)
                }
            }
        }
        features = matrix.cols
        geneViewReady = false
    }

    /// Gathers rows of another batch, in order (rows may repeat): a decoder's rows, one per ELBO
    /// term, from its modality's expert batch. Copying the gathered non-zeros costs less than
    /// gathering them from the CSR again, and gives the same values.
    public func gather(rowsOf source: SparseBatch<T>, rows selected: [Int]) {
        precondition(source.covariateKeys == covariateKeys && source !== self)
        let keys = covariateKeys
        setRows(selected.count)
        var nnz = 0
        let sourceStart = source.rowStart, sourceCells = source.cells, sourceRowsOfSource = source.sourceRows
        let sourceCategories = source.categories
        withRowArrays { rowStart, cells, sourceRows, categories in
            for (i, r) in selected.enumerated() {
                rowStart[i] = nnz
                nnz += sourceStart[r + 1] - sourceStart[r]
                cells[i] = sourceCells[r]
                sourceRows[i] = sourceRowsOfSource[r]
                for key in 0..<keys { categories[i * keys + key] = sourceCategories[r * keys + key] }
            }
            rowStart[selected.count] = nnz
        }
        resizeEntries(nnz)
        let rowStart = self.rowStart, parts = rows >= 2 * Self.rowsPerPart ? self.parts : 1
        source.withEntries { from in
            withEntries { to in
                ParallelLoop.run(parts: parts) { part in
                    for i in ParallelLoop.range(part, of: parts, selected.count) {
                        let r = selected[i]
                        to.library[i] = from.library[r]
                        to.copy(from: from, entries: sourceStart[r]..<sourceStart[r + 1], to: rowStart[i])
                    }
                }
            }
        }
        features = source.features
        geneViewReady = false
    }

    /// body on the per-row arrays (row starts, cells, source rows, covariate codes) through buffer
    /// pointers: a class's array set element by element pays an exclusivity check at each store,
    /// which was most of a gather's per-row loop.
    private func withRowArrays(_ body: (UnsafeMutableBufferPointer<Int>, UnsafeMutableBufferPointer<Int>, UnsafeMutableBufferPointer<Int>,
                                        UnsafeMutableBufferPointer<Int32>) -> Void) {
        rowStart.withUnsafeMutableBufferPointer { rowStart in
            cells.withUnsafeMutableBufferPointer { cells in
                sourceRows.withUnsafeMutableBufferPointer { sourceRows in
                    categories.withUnsafeMutableBufferPointer { categories in body(rowStart, cells, sourceRows, categories) }
                }
            }
        }
    }

    /// The per-non-zero arrays at `entries` values, the library sizes at one per row.
    private func resizeEntries(_ entries: Int) {
        Self.resize(&genes, to: entries, 0)
        Self.resize(&counts, to: entries, 0)
        Self.resize(&logCounts, to: entries, 0)
        Self.resize(&logFactorials, to: entries, 0)
        Self.resize(&integerCounts, to: entries, 0)
        Self.resize(&library, to: rows, 0)
    }

    /// body on pointers to the per-non-zero arrays and the library sizes.
    private func withEntries(_ body: (Entries) -> Void) {
        genes.withUnsafeMutableBufferPointer { genes in
            counts.withUnsafeMutableBufferPointer { counts in
                logCounts.withUnsafeMutableBufferPointer { logCounts in
                    logFactorials.withUnsafeMutableBufferPointer { logFactorials in
                        integerCounts.withUnsafeMutableBufferPointer { integerCounts in
                            library.withUnsafeMutableBufferPointer { library in
                                body(Entries(genes: genes.baseAddress!, counts: counts.baseAddress!, logCounts: logCounts.baseAddress!,
                                             logFactorials: logFactorials.baseAddress!, integerCounts: integerCounts.baseAddress!,
                                             library: library.baseAddress!))
                            }
                        }
                    }
                }
            }
        }
    }

    /// Where a gather writes: the per-non-zero arrays and the library sizes.
    struct Entries: @unchecked Sendable {
        let genes: UnsafeMutablePointer<Int32>, counts: UnsafeMutablePointer<T>, logCounts: UnsafeMutablePointer<T>
        let logFactorials: UnsafeMutablePointer<Double>, integerCounts: UnsafeMutablePointer<Int32>, library: UnsafeMutablePointer<T>

        /// The non-zeros `entries` of another batch's arrays, from entry `first` on.
        func copy(from source: Entries, entries: Range<Int>, to first: Int) {
            let n = entries.count, s = entries.lowerBound
            (genes + first).update(from: source.genes + s, count: n)
            (counts + first).update(from: source.counts + s, count: n)
            (logCounts + first).update(from: source.logCounts + s, count: n)
            (logFactorials + first).update(from: source.logFactorials + s, count: n)
            (integerCounts + first).update(from: source.integerCounts + s, count: n)
        }
    }

    /// Batch row i from row r of the CSR arrays, its non-zeros from entry `first` on (Double's
    /// path; Float's is `fillInC`, the same operations).
    private static func fill(row i: Int, from r: Int, indptr: [Int], indices: [Int32], values: [Float], at first: Int, into e: Entries) {
        let log1pTable = CountTables.log1p, logFactorialTable = CountTables.logFactorial
        var total: T = 0, k = first
        for source in indptr[r]..<indptr[r + 1] {
            let value = values[source], x = T(value)
            e.genes[k] = indices[source]
            e.counts[k] = x
            if let t = CountTables.index(value) {
                e.logCounts[k] = T(log1pTable[t])
                e.logFactorials[k] = logFactorialTable[t]
                e.integerCounts[k] = Int32(t)
            } else {
                e.logCounts[k] = T(CountTables.log1p(value))
                e.logFactorials[k] = CountTables.logFactorial(value)
                e.integerCounts[k] = -1
            }
            total += x
            k += 1
        }
        e.library[i] = total
    }

    /// Stored non-zeros over rows x features.
    public var density: Double { rows * features == 0 ? 0 : Double(rowStart[rows]) / (Double(rows) * Double(features)) }

    /// log1p counts as a dense rows x features matrix.
    public func denseLogCounts(into x: UnsafeMutablePointer<T>) {
        let rows = self.rows, width = features, pieces = rows >= 2 * Self.rowsPerPart ? parts : 1
        rowStart.withUnsafeBufferPointer { start in
            genes.withUnsafeBufferPointer { genes in
                logCounts.withUnsafeBufferPointer { values in
                    ParallelLoop.run(parts: pieces) { p in
                        for i in ParallelLoop.range(p, of: pieces, rows) {
                            let row = x + i * width
                            row.update(repeating: 0, count: width)
                            for k in start[i]..<start[i + 1] { row[Int(genes[k])] = values[k] }
                        }
                    }
                }
            }
        }
    }

    /// Builds the gene-ordered view of the non-zeros, once per gather.
    public func prepareGeneView() {
        guard !geneViewReady else { return }
        geneViewReady = true
        let nnz = rowStart[rows]
        // Counting sort of the entries by gene.
        Self.resize(&geneStart, to: features + 1, 0)
        Self.resize(&entryRow, to: nnz, 0)
        Self.resize(&entryLogCount, to: nnz, 0)
        let genes = self.genes, logCounts = self.logCounts, rowStart = self.rowStart, rows = self.rows, features = self.features
        geneStart.withUnsafeMutableBufferPointer { start in
            entryRow.withUnsafeMutableBufferPointer { entryRow in
                entryLogCount.withUnsafeMutableBufferPointer { entryLogCount in
                    for g in 0...features { start[g] = 0 }
                    for k in 0..<nnz { start[Int(genes[k]) + 1] += 1 }
                    for g in 0..<features { start[g + 1] += start[g] }
                    for i in 0..<rows {
                        for k in rowStart[i]..<rowStart[i + 1] {
                            let g = Int(genes[k]), slot = start[g]
                            entryRow[slot] = Int32(i)
                            entryLogCount[slot] = logCounts[k]
                            start[g] = slot + 1
                        }
                    }
                    // The fill moved each start to the next gene's; shift back.
                    for g in stride(from: features, to: 0, by: -1) { start[g] = start[g - 1] }
                    start[0] = 0
                }
            }
        }
    }
}
