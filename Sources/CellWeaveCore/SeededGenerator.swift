import RealModule

/// xoshiro256** seeded through SplitMix64: fast, statistically solid, and the same stream on
/// every platform, so a seed reproduces a run bit for bit.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var s = seed
        func splitMix() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    /// The four state words, for checkpoints: a generator rebuilt from them continues the stream.
    public var stateWords: [UInt64] { [state.0, state.1, state.2, state.3] }

    public init(stateWords w: [UInt64]) {
        precondition(w.count == 4, "xoshiro256** has four state words")
        state = (w[0], w[1], w[2], w[3])
    }

    public mutating func next() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    /// Uniform in [0, 1) with 24 random bits, the Float32 resolution.
    public mutating func nextUniformFloat() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Standard normal by Box-Muller (one of the pair; simple and reproducible).
    public mutating func nextGaussian() -> Double {
        let first = next()
        return Self.gaussian(first, next())
    }

    /// The standard normal `nextGaussian` makes of two consecutive words of the stream.
    public static func gaussian(_ first: UInt64, _ second: UInt64) -> Double {
        let u1 = Double((first >> 11) + 1) * 0x1p-53
        let u2 = Double(second >> 11) * 0x1p-53
        return (-2 * Double.log(u1)).squareRoot() * Double.cos(2 * Double.pi * u2)
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}
