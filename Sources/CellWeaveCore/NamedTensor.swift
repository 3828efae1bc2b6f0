/// A named float32 array with its shape: model weights and optimiser state as they are saved.
public struct NamedTensor: Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    public var values: [Float]

    public init(name: String, shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "\(name): shape \(shape) holds \(shape.reduce(1, *)) values, not \(values.count)")
        self.name = name
        self.shape = shape
        self.values = values
    }
}
