import CellWeaveCore

extension VariationalAutoencoder where T == Float {
    /// Weights and batch-norm running statistics, by name.
    public var tensors: [NamedTensor] {
        parameters.map { NamedTensor(name: $0.name, shape: $0.shape, values: $0.value.array) }
            + runningStatistics.map { NamedTensor(name: $0.name, shape: [$0.buffer.count], values: $0.buffer.array) }
    }

    /// Loads what `tensors` saved; every tensor must be present with its shape.
    public func load(_ saved: [NamedTensor]) throws {
        let byName = Dictionary(saved.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        func take(_ name: String, _ count: Int) throws -> [Float] {
            guard let t = byName[name] else { throw ModelError.missingTensor(name) }
            guard t.values.count == count else { throw ModelError.tensorShape(name, expected: count, found: t.values.count) }
            return t.values
        }
        for p in parameters { p.value.assign(try take(p.name, p.count)) }
        for s in runningStatistics { s.buffer.assign(try take(s.name, s.buffer.count)) }
    }
}
