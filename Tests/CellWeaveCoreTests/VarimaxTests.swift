import CellWeaveCore
import Foundation
import Testing

@Suite struct VarimaxTests {
    /// Loadings with one block of rows per column, mixed by a rotation, come back unmixed: the
    /// rotation is orthogonal and each column again loads on its own block, largest column first,
    /// with positive loadings.
    @Test func sparseLoadingsAreUnmixed() throws {
        let p = 60, k = 3
        var rng = SeededGenerator(seed: 2)
        var sparse = [Double](repeating: 0, count: p * k)
        for i in 0..<p { sparse[i * k + i / 20] = Double(3 - i / 20) * (1 + 0.2 * rng.nextGaussian()) }
        // A rotation: 30 degrees in (0, 1), then 50 degrees in (1, 2).
        func planar(_ a: Int, _ b: Int, _ degrees: Double) -> [Double] {
            var r = [Double](repeating: 0, count: k * k)
            for i in 0..<k { r[i * k + i] = 1 }
            let t = degrees * .pi / 180
            (r[a * k + a], r[a * k + b], r[b * k + a], r[b * k + b]) = (cos(t), -sin(t), sin(t), cos(t))
            return r
        }
        let mix = Self.multiply(planar(0, 1, 30), planar(1, 2, 50), rows: k, k: k)
        let mixed = Self.multiply(sparse, mix, rows: p, k: k)
        let varimax = try Varimax(loadings: mixed, rows: p, k: k)
        let r = varimax.rotation
        let identity = Self.multiply((0..<(k * k)).map { r[($0 % k) * k + $0 / k] }, r, rows: k, k: k)
        for i in 0..<k { for j in 0..<k { #expect(abs(identity[i * k + j] - (i == j ? 1 : 0)) < 1e-10) } }
        let unmixed = Self.multiply(mixed, r, rows: p, k: k)
        for i in 0..<p {
            for j in 0..<k {
                #expect(abs(unmixed[i * k + j] - sparse[i * k + j]) < 1e-4, "row \(i) column \(j): \(unmixed[i * k + j]) vs \(sparse[i * k + j])")
            }
        }
    }

    static func multiply(_ a: [Double], _ b: [Double], rows: Int, k: Int) -> [Double] {
        var c = [Double](repeating: 0, count: rows * k)
        for i in 0..<rows { for l in 0..<k { for j in 0..<k { c[i * k + j] += a[i * k + l] * b[l * k + j] } } }
        return c
    }
}
