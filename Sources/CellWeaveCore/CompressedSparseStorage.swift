/// The arrays shared by CSR and CSC: `indptr` over the major axis, `indices` along the minor axis.
/// CSR of an m x n matrix and CSC of its n x m transpose are the same storage.
public struct CompressedSparseStorage: Equatable, Sendable {
    public var major: Int
    public var minor: Int
    public var indptr: [Int]
    public var indices: [Int32]
    public var values: [Float]

    public init(major: Int, minor: Int, indptr: [Int], indices: [Int32], values: [Float]) {
        self.major = major
        self.minor = minor
        self.indptr = indptr
        self.indices = indices
        self.values = values
    }

    public var nnz: Int { values.count }

    /// Checks the invariants a reader must establish before handing the arrays on.
    public func validate() throws {
        guard indptr.count == major + 1 else {
            throw MatrixError.malformed("indptr has \(indptr.count) entries, expected \(major + 1)")
        }
        guard indices.count == values.count else {
            throw MatrixError.malformed("\(indices.count) indices but \(values.count) values")
        }
        guard indptr.first == 0, indptr.last == values.count else {
            throw MatrixError.malformed("indptr must run from 0 to nnz = \(values.count)")
        }
        for i in 0..<major where indptr[i] > indptr[i + 1] {
            throw MatrixError.malformed("indptr decreases at \(i)")
        }
        for j in indices where j < 0 || Int(j) >= minor {
            throw MatrixError.indexOutOfRange(axis: "minor", index: Int(j), size: minor)
        }
    }

    /// Counting-sort transpose: O(nnz + major + minor), minor indices come out sorted.
    public func transposed() -> CompressedSparseStorage {
        var counts = [Int](repeating: 0, count: minor + 1)
        for j in indices { counts[Int(j) + 1] += 1 }
        for j in 0..<minor { counts[j + 1] += counts[j] }
        let outIndptr = counts
        var next = counts
        var outIndices = [Int32](repeating: 0, count: nnz)
        var outValues = [Float](repeating: 0, count: nnz)
        indices.withUnsafeBufferPointer { idx in
            values.withUnsafeBufferPointer { val in
                for i in 0..<major {
                    for k in indptr[i]..<indptr[i + 1] {
                        let j = Int(idx[k])
                        let dest = next[j]
                        next[j] = dest + 1
                        outIndices[dest] = Int32(i)
                        outValues[dest] = val[k]
                    }
                }
            }
        }
        return CompressedSparseStorage(major: minor, minor: major, indptr: outIndptr, indices: outIndices, values: outValues)
    }

    /// Sorts minor indices within each major slice and sums duplicates (scipy's sum_duplicates).
    public mutating func canonicalize() {
        var sorted = true
        for i in 0..<major where sorted {
            var k = indptr[i] + 1
            while k < indptr[i + 1] {
                if indices[k - 1] >= indices[k] { sorted = false; break }
                k += 1
            }
        }
        if sorted { return }
        var outIndptr = [Int](repeating: 0, count: major + 1)
        var outIndices: [Int32] = []
        var outValues: [Float] = []
        outIndices.reserveCapacity(nnz)
        outValues.reserveCapacity(nnz)
        for i in 0..<major {
            let slice = (indptr[i]..<indptr[i + 1]).sorted { indices[$0] < indices[$1] }
            for k in slice {
                if outIndices.count > outIndptr[i], outIndices.last == indices[k] {
                    outValues[outValues.count - 1] += values[k]
                } else {
                    outIndices.append(indices[k])
                    outValues.append(values[k])
                }
            }
            outIndptr[i + 1] = outIndices.count
        }
        self = CompressedSparseStorage(major: major, minor: minor, indptr: outIndptr, indices: outIndices, values: outValues)
    }

    /// Keeps the given major slices, in the given order.
    public func selectingMajor(_ selection: [Int]) throws -> CompressedSparseStorage {
        var outIndptr = [Int](repeating: 0, count: selection.count + 1)
        for (n, i) in selection.enumerated() {
            guard i >= 0, i < major else { throw MatrixError.indexOutOfRange(axis: "major", index: i, size: major) }
            outIndptr[n + 1] = outIndptr[n] + (indptr[i + 1] - indptr[i])
        }
        var outIndices = [Int32](repeating: 0, count: outIndptr.last!)
        var outValues = [Float](repeating: 0, count: outIndptr.last!)
        for (n, i) in selection.enumerated() {
            let src = indptr[i]
            let len = indptr[i + 1] - src
            for k in 0..<len {
                outIndices[outIndptr[n] + k] = indices[src + k]
                outValues[outIndptr[n] + k] = values[src + k]
            }
        }
        return CompressedSparseStorage(major: selection.count, minor: minor, indptr: outIndptr, indices: outIndices, values: outValues)
    }

    /// Keeps the given minor positions, renumbered in the given order.
    public func selectingMinor(_ selection: [Int]) throws -> CompressedSparseStorage {
        var newIndex = [Int32](repeating: -1, count: minor)
        for (n, j) in selection.enumerated() {
            guard j >= 0, j < minor else { throw MatrixError.indexOutOfRange(axis: "minor", index: j, size: minor) }
            guard newIndex[j] < 0 else { throw MatrixError.malformed("index \(j) selected twice") }
            newIndex[j] = Int32(n)
        }
        var out = CompressedSparseStorage(major: major, minor: selection.count, indptr: [0], indices: [], values: [])
        out.indptr.reserveCapacity(major + 1)
        for i in 0..<major {
            for k in indptr[i]..<indptr[i + 1] where newIndex[Int(indices[k])] >= 0 {
                out.indices.append(newIndex[Int(indices[k])])
                out.values.append(values[k])
            }
            out.indptr.append(out.indices.count)
        }
        out.canonicalize()
        return out
    }

    /// Sum of each major slice, in Double.
    public func majorSums() -> [Double] {
        (0..<major).map { i in
            var s = 0.0
            for k in indptr[i]..<indptr[i + 1] { s += Double(values[k]) }
            return s
        }
    }

    /// Sum over each minor position, in Double.
    public func minorSums() -> [Double] {
        var sums = [Double](repeating: 0, count: minor)
        addMinorSums(into: &sums)
        return sums
    }

    /// Adds each entry to its minor position's sum, in storage order: over blocks of major rows
    /// in order, the same bits as `minorSums` of the whole.
    public func addMinorSums(into sums: inout [Double]) {
        precondition(sums.count == minor)
        for k in 0..<nnz { sums[Int(indices[k])] += Double(values[k]) }
    }

    /// Number of stored entries per minor position.
    public func minorCounts() -> [Int] {
        var counts = [Int](repeating: 0, count: minor)
        for j in indices { counts[Int(j)] += 1 }
        return counts
    }
}
