import CellWeaveCore
import Foundation

/// The fuzzy simplicial set UMAP (McInnes et al. 2018) builds from a kNN graph, which scanpy stores
/// as obsp "connectivities" (method "umap", local_connectivity 1, set_op_mix_ratio 1). Per cell,
/// rho is the distance to its nearest other cell and sigma is found by bisection so that
/// sum_j exp(-(d_j - rho) / sigma) = log2(k); the directed weights w_ij = exp(-(d_ij - rho_i) / sigma_i)
/// are then joined by the fuzzy union w + w^T - w o w^T. The arithmetic follows umap-learn's
/// precision (float32 distances and weights, float64 bisection), so the result equals scanpy's.
public enum UMAPConnectivities {
    static let tolerance = 1e-5
    static let minimumScale: Float = 1e-3

    public static func compute(_ nn: NearestNeighbors) -> CSRMatrix {
        let n = nn.cells, k = nn.k
        let d = nn.distances.map(Float.init)
        let meanAll = Float(d.reduce(0.0) { $0 + Double($1) } / Double(max(d.count, 1)))
        let target = log2(Double(k))
        var sigma = [Float](repeating: 0, count: n), rho = [Float](repeating: 0, count: n)
        for i in 0..<n {
            let row = d[(i * k)..<((i + 1) * k)]
            if let nearest = row.first(where: { $0 > 0 }) { rho[i] = nearest }
            var lo = 0.0, hi = Double(Float.greatestFiniteMagnitude), mid = 1.0
            for _ in 0..<64 {
                var psum = 0.0
                for j in 1..<k {
                    let gap = d[i * k + j] - rho[i]
                    psum += gap > 0 ? exp(-(Double(gap) / mid)) : 1
                }
                if abs(psum - target) < tolerance { break }
                if psum > target {
                    hi = mid
                    mid = (lo + hi) / 2
                } else {
                    lo = mid
                    mid = hi >= Double(Float.greatestFiniteMagnitude) ? mid * 2 : (lo + hi) / 2
                }
            }
            sigma[i] = Float(mid)
            // A floor on sigma, as umap-learn's, for cells whose neighbours sit at one distance.
            let mean = rho[i] > 0 ? Float(row.reduce(0.0) { $0 + Double($1) } / Double(k)) : meanAll
            sigma[i] = max(sigma[i], minimumScale * mean)
        }
        // Directed weights, the cell itself left out; zeros dropped as umap-learn eliminates them.
        var outgoing = [[(j: Int32, w: Float)]](repeating: [], count: n)
        var incoming = [[(j: Int32, w: Float)]](repeating: [], count: n)
        for i in 0..<n {
            for m in 0..<k {
                let j = nn.indices[i * k + m]
                guard Int(j) != i else { continue }
                let gap = d[i * k + m] - rho[i]
                let w: Float = gap <= 0 || sigma[i] == 0 ? 1 : Float(exp(-Double(gap / sigma[i])))
                guard w != 0 else { continue }
                outgoing[i].append((j, w))
                incoming[Int(j)].append((Int32(i), w))
            }
        }
        var indptr = [0], indices: [Int32] = [], values: [Float] = []
        for i in 0..<n {
            let a = outgoing[i].sorted { $0.j < $1.j }, b = incoming[i].sorted { $0.j < $1.j }
            var p = 0, q = 0
            while p < a.count || q < b.count {
                let ja = p < a.count ? a[p].j : .max, jb = q < b.count ? b[q].j : .max
                let j = min(ja, jb)
                let wa: Float = ja == j ? a[p].w : 0, wb: Float = jb == j ? b[q].w : 0
                if ja == j { p += 1 }
                if jb == j { q += 1 }
                let w = (wa + wb) - wa * wb
                if w != 0 { indices.append(j); values.append(w) }
            }
            indptr.append(indices.count)
        }
        return CSRMatrix(uncheckedRows: n, cols: n, indptr: indptr, indices: indices, values: values)
    }
}
