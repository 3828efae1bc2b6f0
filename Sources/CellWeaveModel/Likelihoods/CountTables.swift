import RealModule

/// log1p(x) and log(x!) of counts, looked up for the small integers that make up nearly all UMI
/// counts and computed otherwise: the minibatch gets them without a per-non-zero copy of the data.
enum CountTables {
    static let size = 4096
    static let log1p: [Float] = (0..<size).map { Float.log(onePlus: Float($0)) }
    static let logFactorial: [Double] = (0..<size).map { Double.logGamma(Double($0) + 1) }

    @inline(__always) static func index(_ x: Float) -> Int? {
        x >= 0 && x < Float(size) && x == x.rounded(.towardZero) ? Int(x) : nil
    }

    static func log1p(_ x: Float) -> Float { index(x).map { log1p[$0] } ?? Float.log(onePlus: x) }
    static func logFactorial(_ x: Float) -> Double { index(x).map { logFactorial[$0] } ?? Double.logGamma(Double(x) + 1) }
}
