/// The element type a numeric array had on disk, so that a round trip writes it back as it was
/// even though CellWeave computes in Float32/Double/Int64.
public enum ScalarType: String, Sendable, CaseIterable, Codable {
    case int8, int16, int32, int64, uint8, uint16, uint32, uint64, float32, float64, bool

    public var isFloatingPoint: Bool { self == .float32 || self == .float64 }
}
