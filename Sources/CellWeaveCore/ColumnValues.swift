/// The values of one obs/var column, in the kinds AnnData stores.
public indirect enum ColumnValues: Equatable, Sendable {
    case strings([String])
    case numeric(NumericArray)
    case booleans([Bool])
    /// Codes index `categories`; -1 marks a missing value.
    case categorical(codes: [Int32], categories: ColumnValues, ordered: Bool)
    /// Masked entries (mask true) are missing.
    case nullableIntegers(NumericArray, mask: [Bool])
    case nullableBooleans([Bool], mask: [Bool])
    case nullableStrings([String], mask: [Bool])

    /// A categorical column of text values, categories sorted; the empty string marks a missing value.
    public static func categorical(labels: [String]) -> ColumnValues {
        let categories = Set(labels).subtracting([""]).sorted()
        let code = Dictionary(uniqueKeysWithValues: categories.enumerated().map { ($1, Int32($0)) })
        return .categorical(codes: labels.map { code[$0] ?? -1 }, categories: .strings(categories), ordered: false)
    }

    public var count: Int {
        switch self {
        case let .strings(v): return v.count
        case let .numeric(v): return v.count
        case let .booleans(v): return v.count
        case let .categorical(codes, _, _): return codes.count
        case let .nullableIntegers(v, _): return v.count
        case let .nullableBooleans(v, _): return v.count
        case let .nullableStrings(v, _): return v.count
        }
    }

    /// The entries at `rows`, in that order (categories are kept whole).
    public func selecting(_ rows: [Int]) -> ColumnValues {
        switch self {
        case let .strings(v): return .strings(rows.map { v[$0] })
        case let .numeric(v): return .numeric(v.selecting(rows))
        case let .booleans(v): return .booleans(rows.map { v[$0] })
        case let .categorical(codes, categories, ordered):
            return .categorical(codes: rows.map { codes[$0] }, categories: categories, ordered: ordered)
        case let .nullableIntegers(v, mask): return .nullableIntegers(v.selecting(rows), mask: rows.map { mask[$0] })
        case let .nullableBooleans(v, mask): return .nullableBooleans(rows.map { v[$0] }, mask: rows.map { mask[$0] })
        case let .nullableStrings(v, mask): return .nullableStrings(rows.map { v[$0] }, mask: rows.map { mask[$0] })
        }
    }

    /// A short name of the kind, for summaries.
    public var kindName: String {
        switch self {
        case .strings: return "string"
        case let .numeric(v): return v.scalarType.rawValue
        case .booleans: return "bool"
        case .categorical: return "categorical"
        case .nullableIntegers: return "nullable-integer"
        case .nullableBooleans: return "nullable-boolean"
        case .nullableStrings: return "nullable-string"
        }
    }
}
