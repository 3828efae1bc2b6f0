/// A fixed-size block of model scalars allocated once: activations, gradients and workspaces
/// live in these so that a training step allocates nothing.
public final class Buffer<T: ModelScalar>: @unchecked Sendable {
    /// Read on every pass, moved at most once (`move(to:)`): not worth an exclusivity check.
    @exclusivity(unchecked) public private(set) var pointer: UnsafeMutablePointer<T>
    public let count: Int
    /// False once the values live in storage someone else owns.
    private var ownsStorage = true

    public init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    public convenience init(_ values: [T]) {
        self.init(count: values.count)
        for (i, v) in values.enumerated() { pointer[i] = v }
    }

    deinit { if ownsStorage { pointer.deallocate() } }

    /// The values move to `storage` (count of them, owned and kept alive by the caller), copied there
    /// unless `copying` is false (someone else fills it): data-parallel training keeps the weights
    /// and gradients in memory the processes of a machine share.
    public func move(to storage: UnsafeMutablePointer<T>, copying: Bool = true) {
        if copying { storage.update(from: pointer, count: count) }
        if ownsStorage { pointer.deallocate() }
        pointer = storage
        ownsStorage = false
    }

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
