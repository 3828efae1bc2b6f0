import CellWeaveCore

/// Silhouette widths on an embedding (Euclidean), as sklearn's silhouette_samples computes them:
/// s = (b - a) / max(a, b), a the mean distance to the cell's own group (itself excluded), b the
/// smallest mean distance to another group; 0 for a cell alone in its group. Distances come in
/// blocks (SquaredDistanceBlocks), so memory stays at block x cells.
public enum Silhouette {
    /// Per-cell silhouette widths of `labels` (codes 0..<groups) on rows of `embedding`.
    public static func samples(_ embedding: DenseMatrix, labels: [Int]) -> [Double] {
        let n = embedding.rows
        precondition(labels.count == n)
        let groups = (labels.max() ?? -1) + 1
        var sizes = [Int](repeating: 0, count: groups)
        for l in labels { sizes[l] += 1 }
        var widths = [Double](repeating: 0, count: n)
        var sums = [Double](repeating: 0, count: groups)
        SquaredDistanceBlocks(embedding).forEachBlock(in: 0..<n) { start, rows, squared in
            for r in 0..<rows {
                let i = start + r
                for g in 0..<groups { sums[g] = 0 }
                for j in 0..<n where j != i { sums[labels[j]] += squared[r * n + j].squareRoot() }
                let own = labels[i]
                guard sizes[own] > 1 else { widths[i] = 0; continue }
                let a = sums[own] / Double(sizes[own] - 1)
                var b = Double.infinity
                for g in 0..<groups where g != own && sizes[g] > 0 { b = min(b, sums[g] / Double(sizes[g])) }
                widths[i] = b.isFinite && max(a, b) > 0 ? (b - a) / max(a, b) : 0
            }
        }
        return widths
    }

    /// The mean silhouette width (sklearn's silhouette_score).
    public static func score(_ embedding: DenseMatrix, labels: [Int]) -> Double {
        let s = samples(embedding, labels: labels)
        return s.reduce(0, +) / Double(max(s.count, 1))
    }

    /// scib's batch silhouette: within each cell type, 1 - |s| of the batch labels per cell, averaged
    /// per type and then over types. 1 means batches are mixed within every type, 0 separated.
    public static func batchMixing(_ embedding: DenseMatrix, batches: [Int], cellTypes: [Int]) throws -> Double {
        var perType: [Double] = []
        for type in Set(cellTypes).sorted() {
            let cells = cellTypes.indices.filter { cellTypes[$0] == type }
            let present = Set(cells.map { batches[$0] }).sorted()
            guard present.count > 1, present.count < cells.count else { continue }
            let recode = Dictionary(uniqueKeysWithValues: present.enumerated().map { ($1, $0) })
            let subset = try DenseMatrix(rows: cells.count, cols: embedding.cols,
                                         values: cells.flatMap { embedding.values[($0 * embedding.cols)..<(($0 + 1) * embedding.cols)] })
            let s = samples(subset, labels: cells.map { recode[batches[$0]]! })
            perType.append(s.reduce(0) { $0 + 1 - abs($1) } / Double(s.count))
        }
        return perType.isEmpty ? .nan : perType.reduce(0, +) / Double(perType.count)
    }
}
