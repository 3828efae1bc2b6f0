import COpenBLAS

/// The varimax rotation of a loading matrix (Kaiser 1958, with his row normalisation, as R's
/// `varimax`): the orthogonal R that maximises the variance of the squared loadings within each
/// column, each row scaled to unit length first, so that each column loads on few rows.
/// A model whose latent prior is N(0, I) fits rotated axes exactly as well as its own, so reading
/// its loadings in these axes changes nothing but their interpretability.
public struct Varimax: Sendable {
    /// k x k row-major: rotated loadings = loadings x rotation.
    public let rotation: [Double]
    public let k: Int

    /// `loadings`: rows x k, row-major. Columns of the result are ordered by their sum of squared
    /// loadings, largest first, each signed so that its largest loadings are positive (positive sum
    /// of cubes).
    public init(loadings: [Double], rows p: Int, k: Int, iterations: Int = 500, tolerance: Double = 1e-10) throws {
        precondition(loadings.count == p * k)
        self.k = k
        var r = [Double](repeating: 0, count: k * k)
        for i in 0..<k { r[i * k + i] = 1 }
        // Kaiser's normalisation: every row counts alike, whatever its length (a row of zeros stays).
        var normalized = loadings
        for i in 0..<p {
            let length = (0..<k).reduce(0.0) { $0 + loadings[i * k + $1] * loadings[i * k + $1] }.squareRoot()
            if length > 0 { for j in 0..<k { normalized[i * k + j] /= length } }
        }
        var rotated = loadings, target = [Double](repeating: 0, count: p * k), gradient = [Double](repeating: 0, count: k * k)
        var criterion = 0.0
        for _ in 0..<iterations {
            Self.multiply(normalized, r, rows: p, k: k, into: &rotated)
            // d/dR of the varimax criterion: L^T (Lr^3 - Lr diag(mean of Lr^2 per column)).
            for j in 0..<k {
                var mean = 0.0
                for i in 0..<p { mean += rotated[i * k + j] * rotated[i * k + j] }
                mean /= Double(p)
                for i in 0..<p { let x = rotated[i * k + j]; target[i * k + j] = x * x * x - x * mean }
            }
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(k), Int32(k), Int32(p), 1, normalized, Int32(k), target, Int32(k),
                        0, &gradient, Int32(k))
            // The nearest rotation to the gradient, U V^T from its SVD.
            var s = [Double](repeating: 0, count: k), u = [Double](repeating: 0, count: k * k), vt = [Double](repeating: 0, count: k * k)
            var superb = [Double](repeating: 0, count: max(k - 1, 1))
            let info = LAPACKE_dgesvd(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "A")), Int8(UInt8(ascii: "A")), Int32(k), Int32(k), &gradient,
                                      Int32(k), &s, &u, Int32(k), &vt, Int32(k), &superb)
            guard info == 0 else { throw MatrixError.malformed("LAPACK dgesvd failed to converge in the varimax rotation (info \(info))") }
            Self.multiply(u, vt, rows: k, k: k, into: &r)
            let next = s.reduce(0, +)
            if next <= criterion * (1 + tolerance) { break }
            criterion = next
        }
        Self.multiply(loadings, r, rows: p, k: k, into: &rotated)
        // Order and sign the axes.
        var squares = [Double](repeating: 0, count: k), cubes = [Double](repeating: 0, count: k)
        for i in 0..<p {
            for j in 0..<k { let x = rotated[i * k + j]; squares[j] += x * x; cubes[j] += x * x * x }
        }
        let order = (0..<k).sorted { a, b in squares[a] != squares[b] ? squares[a] > squares[b] : a < b }
        var out = [Double](repeating: 0, count: k * k)
        for (column, j) in order.enumerated() {
            let sign: Double = cubes[j] < 0 ? -1 : 1
            for i in 0..<k { out[i * k + column] = sign * r[i * k + j] }
        }
        rotation = out
    }

    private static func multiply(_ a: [Double], _ b: [Double], rows: Int, k: Int, into c: inout [Double]) {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(k), Int32(k), 1, a, Int32(k), b, Int32(k), 0, &c, Int32(k))
    }
}
