/// A problem with an input file, located as precisely as the format allows: a line of a text
/// file, a field, or an HDF5 path. Printed as `file:line: message` or `file [path]: message`.
public struct InputError: Error, CustomStringConvertible, Equatable {
    public enum Kind: String, Equatable, Sendable {
        case notFound, compression, header, sizeLine, entryCount, index, value, mismatch,
             duplicate, empty, missingObject, unknownEncoding, notH5ad, hdf5, unsupported
    }

    public enum Location: Equatable, Sendable {
        case none
        case line(Int)
        case field(String)
        case hdf5Path(String)
    }

    public let kind: Kind
    public let file: String
    public let location: Location
    public let message: String

    public init(_ kind: Kind, file: String, _ message: String) {
        self.init(kind, file: file, .none, message)
    }

    public init(_ kind: Kind, file: String, _ location: Location, _ message: String) {
        self.kind = kind
        self.file = file
        self.location = location
        self.message = message
    }

    public var description: String {
        switch location {
        case .none: return "\(file): \(message)"
        case let .line(n): return "\(file):\(n): \(message)"
        case let .field(f): return "\(file) [field \(f)]: \(message)"
        case let .hdf5Path(p): return "\(file) [\(p)]: \(message)"
        }
    }
}
