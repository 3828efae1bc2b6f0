/// A fixed-size block of model scalars allocated once: activations, gradients and workspaces
/// live in these so that a training step allocates nothing.
public final class Buffer<T: ModelScalar>: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<T>
    public let count: Int

    public init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    public convenience init(_ values: [T]) {
        self.init(count: values.count)
        for (i, v) in values.enumerated() { pointer[i] = v }
    }

    deinit { pointer.deallocate() }

    public subscript(i: Int) -> T {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }

    public func zero() { pointer.update(repeating: 0, count: count) }

    public var array: [T] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    public func assign(_ values: [T]) {
        precondition(values.count == count, "buffer of \(count) assigned \(values.count) values")
        for (i, v) in values.enumerated() { pointer[i] = v }
    }
}
