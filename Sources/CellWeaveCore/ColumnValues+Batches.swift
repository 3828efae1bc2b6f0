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
            case let .floats(x):
                // NaN is pandas' missing value, refused as a categorical's missing code is.
                guard !x.contains(where: \.isNaN) else { return nil }
                texts = x.map { String($0) }
                numeric = x
            }
        case let .booleans(v): texts = v.map { $0 ? "True" : "False" }
        case let .categorical(codes, categories, _):
            // The categories' own labels, kept where a cell has them: no text per cell, as a
            // batch column of millions of cells would need.
            guard !codes.contains(where: { $0 < 0 }), let own = categories.batchCodes() else { return nil }
            var used = [Bool](repeating: false, count: own.labels.count)
            for c in codes { used[own.codes[Int(c)]] = true }
            var renumbered = [Int](repeating: -1, count: own.labels.count), labels: [String] = []
            for (l, label) in own.labels.enumerated() where used[l] {
                renumbered[l] = labels.count
                labels.append(label)
            }
            return (codes.map { renumbered[own.codes[Int($0)]] }, labels)
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
