import CVectorMath

extension SparseBatch {
    /// `fill` of the batch rows `rows` in C, for Float: the same values, without the bounds and
    /// conversion checks Swift makes at every non-zero (a tenth of a deep epoch went to them).
    /// T must be Float.
    static func fillInC(rows: Range<Int>, from sourceRows: [Int], indptr: [Int], indices: [Int32], values: [Float], at rowStart: [Int],
                        into e: Entries) {
        precondition(T.self == Float.self)
        let float = T.float as (UnsafeMutablePointer<T>) -> UnsafeMutablePointer<Float>
        sourceRows.withUnsafeBufferPointer { sourceRows in
            rowStart.withUnsafeBufferPointer { rowStart in
                indptr.withUnsafeBufferPointer { indptr in
                    indices.withUnsafeBufferPointer { indices in
                        values.withUnsafeBufferPointer { values in
                            CountTables.log1p.withUnsafeBufferPointer { log1p in
                                CountTables.logFactorial.withUnsafeBufferPointer { logFactorial in
                                    var arguments = cw_gather_arguments(
                                        indptr: indptr.baseAddress, indices: indices.baseAddress, values: values.baseAddress,
                                        sourceRows: sourceRows.baseAddress, rowStart: rowStart.baseAddress, log1pTable: log1p.baseAddress,
                                        logFactorialTable: logFactorial.baseAddress, tableSize: CountTables.size, genes: e.genes,
                                        counts: float(e.counts), logCounts: float(e.logCounts), logFactorials: e.logFactorials,
                                        integerCounts: e.integerCounts, library: float(e.library), otherCount: otherCountForC)
                                    cw_gather_rows(&arguments, rows.lowerBound, rows.upperBound)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// log1p and log(x!) of a count outside `CountTables`, for the C gather.
private let otherCountForC: @convention(c) (Float, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Double>?) -> Void = {
    x, logCount, logFactorial in
    logCount!.pointee = CountTables.log1p(x)
    logFactorial!.pointee = CountTables.logFactorial(x)
}
