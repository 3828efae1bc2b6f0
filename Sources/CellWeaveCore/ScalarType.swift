/// The element type a numeric array had on disk, so that a round trip writes it back as it was
/// even though CellWeave computes in Float32/Double/Int64.
public enum ScalarType: String, Sendable, CaseIterable, Codable {
    case int8, int16, int32, int64, uint8, uint16, uint32, uint64, float32, float64, bool

    public var isFloatingPoint: Bool { self == .float32 || self == .float64 }

    /// Whether Float32 holds every value of the type (integers up to 2^24): a Float32 working copy
    /// of data of a wider type may lose digits (float64, and counts of 2^24 or more in 32- and 64-bit integers).
    public var fitsFloat32: Bool { [.int8, .int16, .uint8, .uint16, .float32, .bool].contains(self) }
}
