/// A trainable tensor with its gradient, named for checkpoints ("encoder.0.linear.weight").
public final class Parameter<T: ModelScalar> {
    public let name: String
    public let shape: [Int]
    public let value: Buffer<T>
    public let gradient: Buffer<T>

    public init(name: String, shape: [Int], initial: [T]? = nil) {
        self.name = name
        self.shape = shape
        let count = shape.reduce(1, *)
        value = Buffer(count: count)
        gradient = Buffer(count: count)
        if let initial { value.assign(initial) }
    }

    public var count: Int { value.count }
}
