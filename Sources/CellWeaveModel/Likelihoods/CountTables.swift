import RealModule

/// log1p(x) and log(x!) of counts, looked up for the small integers that make up nearly all UMI
/// counts and computed otherwise: the minibatch gets them without a per-non-zero copy of the data.
enum CountTables {
    static let size = 4096
    static let log1p: [Float] = (0..<size).map { Float.log(onePlus: Float($0)) }
    static let logFactorial: [Double] = (0..<size).map { Double.logGamma(Double($0) + 1) }

    /// The table index of a count that is a small non-negative integer (a conversion and a
    /// compare, not a rounding call).
    @inline(__always) static func index(_ x: Float) -> Int? {
        guard x >= 0, x < Float(size) else { return nil }
        let n = Int(x)
        return Float(n) == x ? n : nil
    }

    static func log1p(_ x: Float) -> Float { index(x).map { log1p[$0] } ?? Float.log(onePlus: x) }
    static func logFactorial(_ x: Float) -> Double { index(x).map { logFactorial[$0] } ?? Double.logGamma(Double(x) + 1) }
}
