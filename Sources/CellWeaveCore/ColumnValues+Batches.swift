extension ColumnValues {
    /// The column as batch labels: a code per cell into the distinct labels, sorted as numpy's
    /// `np.unique` sorts them (numbers by value, text lexicographically). Nil if a value is missing.
    public func batchCodes() -> (codes: [Int], labels: [String])? {
        let texts: [String]
        var numeric: [Double]?
        switch self {
        case let .strings(v): texts = v
        case let .numeric(v):
            switch v.storage {
            case let .integers(x): texts = x.map(String.init); numeric = x.map(Double.init)
            case let .floats(x): texts = x.map { String($0) }; numeric = x
            }
        case let .booleans(v): texts = v.map { $0 ? "True" : "False" }
        case let .categorical(codes, categories, _):
            guard !codes.contains(where: { $0 < 0 }), let labels = categories.batchCodes() else { return nil }
            let byCode = labels.codes.map { labels.labels[$0] }
            texts = codes.map { byCode[Int($0)] }
            if case let .numeric(v) = categories {
                let values = v.storage
                if case let .integers(x) = values { numeric = codes.map { Double(x[Int($0)]) } }
                if case let .floats(x) = values { numeric = codes.map { x[Int($0)] } }
            }
        default: return nil
        }
        var firstValue: [String: Double] = [:]
        if let numeric { for (t, x) in zip(texts, numeric) { firstValue[t] = x } }
        let labels = Set(texts).sorted { a, b in
            if let x = firstValue[a], let y = firstValue[b] { return x < y }
            return a < b
        }
        let index = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, $0) })
        return (texts.map { index[$0]! }, labels)
    }
}
