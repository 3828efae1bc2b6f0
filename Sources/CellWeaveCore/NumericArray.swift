/// A numeric column or vector that remembers its on-disk element type. Integers are held as
/// Int64 and floats as Double, so nothing is lost between reading and writing.
public struct NumericArray: Equatable, Sendable {
    public enum Storage: Equatable, Sendable {
        case integers([Int64])
        case floats([Double])
    }

    public var storage: Storage
    public var scalarType: ScalarType

    public init(integers: [Int64], scalarType: ScalarType = .int64) {
        storage = .integers(integers)
        self.scalarType = scalarType
    }

    public init(floats: [Double], scalarType: ScalarType = .float64) {
        storage = .floats(floats)
        self.scalarType = scalarType
    }

    public var count: Int {
        switch storage {
        case let .integers(v): return v.count
        case let .floats(v): return v.count
        }
    }

    public func selecting(_ rows: [Int]) -> NumericArray {
        var out = self
        switch storage {
        case let .integers(v): out.storage = .integers(rows.map { v[$0] })
        case let .floats(v): out.storage = .floats(rows.map { v[$0] })
        }
        return out
    }
}

extension NumericArray {
    /// Every value as a Double.
    public var doubles: [Double] {
        switch storage {
        case let .integers(x): return x.map(Double.init)
        case let .floats(x): return x
        }
    }
}
