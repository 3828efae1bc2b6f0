/// Small dense least squares by Householder QR with equilibrated columns (as dloess scales them);
/// for the handful of columns of a local polynomial fit.
enum LeastSquares {
    static func solve(_ rows: [[Double]], _ rhs: [Double], columns k: Int) -> [Double] {
        let m = rows.count
        var a = rows, b = rhs
        var scale = [Double](repeating: 1, count: k)
        for j in 0..<k {
            let norm = (0..<m).reduce(0.0) { $0 + a[$1][j] * a[$1][j] }.squareRoot()
            if norm > 0 {
                scale[j] = norm
                for i in 0..<m { a[i][j] /= norm }
            }
        }
        for j in 0..<min(k, m) {
            let norm = (j..<m).reduce(0.0) { $0 + a[$1][j] * a[$1][j] }.squareRoot()
            if norm == 0 { continue }
            let alpha = a[j][j] > 0 ? -norm : norm
            var v = (0..<m).map { $0 < j ? 0 : a[$0][j] }
            v[j] -= alpha
            let vv = v.reduce(0) { $0 + $1 * $1 }
            if vv == 0 { continue }
            for c in j..<k {
                let dot = (j..<m).reduce(0.0) { $0 + v[$1] * a[$1][c] }
                for i in j..<m { a[i][c] -= 2 * dot / vv * v[i] }
            }
            let dot = (j..<m).reduce(0.0) { $0 + v[$1] * b[$1] }
            for i in j..<m { b[i] -= 2 * dot / vv * v[i] }
        }
        // Back substitution; directions with a negligible diagonal get 0 (a pseudo-inverse).
        var x = [Double](repeating: 0, count: k)
        let largest = (0..<k).map { abs(a[$0][$0]) }.max() ?? 0
        for j in stride(from: k - 1, through: 0, by: -1) {
            var s = b[j]
            for c in (j + 1)..<k { s -= a[j][c] * x[c] }
            x[j] = abs(a[j][j]) > largest * 1e-13 ? s / a[j][j] : 0
        }
        return (0..<k).map { x[$0] / scale[$0] }
    }
}
