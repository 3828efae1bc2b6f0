/// Errors from constructing or combining matrices with inconsistent shapes or indices.
public enum MatrixError: Error, CustomStringConvertible, Equatable {
    case shapeMismatch(operation: String, expected: String, found: String)
    case indexOutOfRange(axis: String, index: Int, size: Int)
    case malformed(String)

    public var description: String {
        switch self {
        case let .shapeMismatch(operation, expected, found):
            return "\(operation): expected shape \(expected), found \(found)"
        case let .indexOutOfRange(axis, index, size):
            return "\(axis) index \(index) is out of range 0..<\(size)"
        case let .malformed(what):
            return "malformed matrix: \(what)"
        }
    }
}
