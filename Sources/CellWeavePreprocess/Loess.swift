/// One-dimensional LOESS (Cleveland, Grosse & Shyu 1992) as the netlib `dloess` code computes it
/// with its defaults (surface "interpolate"), which scikit-misc wraps and scanpy's seurat_v3 HVG
/// flavour calls: local regressions with tricube weights over the nearest span * n points are fitted
/// only at the vertices of a k-d tree over x, and every fitted value is the cubic Hermite
/// interpolation of the two surrounding vertices' values and slopes. The interpolation is part of
/// the result (it moves fitted values by percents), so it is reproduced, not replaced by direct fits.
public struct Loess: Sendable {
    public let span: Double
    public let degree: Int
    /// Cell size: a k-d tree cell holds at most floor(n * span * cell) points.
    public let cell: Double

    public init(span: Double = 0.75, degree: Int = 2, cell: Double = 0.2) {
        self.span = span
        self.degree = degree
        self.cell = cell
    }

    /// Fitted values at the data points.
    public func fit(x: [Double], y: [Double]) -> [Double] {
        let n = x.count
        guard n > degree else { return y }
        let order = x.indices.sorted { x[$0] < x[$1] }
        let xs = order.map { x[$0] }
        let nf = min(n, Int((Double(n) * span + 1e-5).rounded(.down)))
        let fc = Int((Double(n) * (span * cell)).rounded(.down))

        // Bounding box, widened a little as dloess does.
        let lo = xs[0], hi = xs[n - 1]
        let margin = 0.005 * max(hi - lo, 1e-10 * max(abs(lo), abs(hi)) + 1e-30)
        var vertices = [lo - margin, hi + margin]
        // Cells are ranges of sorted positions (0-based, inclusive) with their bounding vertices.
        var cells = [(l: 0, u: n - 1, left: lo - margin, right: hi + margin)]
        var next = 0
        while next < cells.count {
            let (l, u, left, right) = cells[next]
            next += 1
            if u - l + 1 <= fc { continue }
            // Split at the median; if it ties with its successor, move to the nearest position
            // (alternating up and down) where the value changes, so ties stay on one side.
            var m = (l + u) / 2
            var offset = 0
            while m + offset < u && m + offset >= l {
                if xs[m + offset] == xs[m + offset + 1] {
                    offset = -offset
                    if offset >= 0 { offset += 1 }
                } else {
                    m += offset
                    break
                }
            }
            let split = xs[m]
            if split == left || split == right { continue }
            vertices.append(split)
            cells.append((l, m, left, split))
            cells.append((m + 1, u, split, right))
        }
        vertices.sort()

        let fits = vertices.map { localFit(at: $0, x: x, y: y, nf: nf) }
        return x.map { z in
            // The leaf holding z: values on a split go to the left cell, as dloess descends.
            var k = 0
            while k + 2 < vertices.count && z > vertices[k + 1] { k += 1 }
            let v0 = vertices[k], v1 = vertices[k + 1]
            let h = (z - v0) / (v1 - v0)
            let phi0 = (1 - h) * (1 - h) * (1 + 2 * h), phi1 = h * h * (3 - 2 * h)
            let psi0 = h * (1 - h) * (1 - h), psi1 = h * h * (h - 1)
            return phi0 * fits[k].value + phi1 * fits[k + 1].value + (psi0 * fits[k].slope + psi1 * fits[k + 1].slope) * (v1 - v0)
        }
    }

    /// Weighted least squares of y on a polynomial in (x - q) over the nf nearest points, with
    /// tricube weights on distance / (distance of the nf-th nearest); the value and slope at q.
    func localFit(at q: Double, x: [Double], y: [Double], nf: Int) -> (value: Double, slope: Double) {
        let squared = x.map { ($0 - q) * ($0 - q) }
        let nearest = x.indices.sorted { squared[$0] < squared[$1] }.prefix(nf)
        let rho = squared[nearest.last!] * max(1, span)
        let k = degree + 1
        var design: [[Double]] = []
        var rhs: [Double] = []
        for i in nearest {
            let r = (squared[i] / rho).squareRoot()
            let w = (max(0, 1 - r * r * r) * max(0, 1 - r * r * r) * max(0, 1 - r * r * r)).squareRoot()
            let dx = x[i] - q
            design.append((0..<k).map { p in w * pow(dx, p) })
            rhs.append(w * y[i])
        }
        let b = LeastSquares.solve(design, rhs, columns: k)
        return (b[0], k > 1 ? b[1] : 0)
    }
}

@inline(__always)
private func pow(_ x: Double, _ p: Int) -> Double {
    var r = 1.0
    for _ in 0..<p { r *= x }
    return r
}
