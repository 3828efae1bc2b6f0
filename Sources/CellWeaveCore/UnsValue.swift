/// A value CellWeave adds to AnnData's unstructured annotations (uns): parameters, PCA variances.
public indirect enum UnsValue: Equatable, Sendable {
    case string(String)
    case strings([String])
    case number(Double)
    case integer(Int64)
    case numbers(NumericArray)
    case dict([(String, UnsValue)])

    public static func == (lhs: UnsValue, rhs: UnsValue) -> Bool {
        switch (lhs, rhs) {
        case let (.string(a), .string(b)): return a == b
        case let (.strings(a), .strings(b)): return a == b
        case let (.number(a), .number(b)): return a == b
        case let (.integer(a), .integer(b)): return a == b
        case let (.numbers(a), .numbers(b)): return a == b
        case let (.dict(a), .dict(b)): return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }
}
