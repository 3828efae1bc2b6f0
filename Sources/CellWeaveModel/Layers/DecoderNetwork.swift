import CellWeaveCore

/// RNA's decoder network, one case per `DecoderKind`: a switch over concrete types keeps the hot
/// calls specialised (see `AnyModalityDecoder`). The likelihood pass computes logits and their
/// gradient part by part of the rows through `forwardOutput` and `outputInputGradient`; the linear
/// decoder does its whole output in `forwardHidden` and `backward` (batch norm couples the rows).
public enum DecoderNetwork<T: ModelScalar> {
    case nonlinear(Decoder<T>)
    case linear(LinearDecoder<T>)

    public init(configuration c: ModelConfiguration, capacity: Int, parts: Int, generator: inout SeededGenerator) {
        switch c.decoderKind {
        case .nonlinear: self = .nonlinear(Decoder(configuration: c, capacity: capacity, parts: parts, generator: &generator))
        case .linear: self = .linear(LinearDecoder(configuration: c, capacity: capacity, parts: parts, generator: &generator))
        }
    }

    public var linear: LinearDecoder<T>? { if case let .linear(d) = self { return d } else { return nil } }

    public var logits: Buffer<T> {
        switch self {
        case let .nonlinear(d): return d.logits
        case let .linear(d): return d.logits
        }
    }

    public var dropoutLogits: Buffer<T>? {
        switch self {
        case let .nonlinear(d): return d.dropoutLogits
        case let .linear(d): return d.dropoutLogits
        }
    }

    public var latentGradient: Buffer<T> {
        switch self {
        case let .nonlinear(d): return d.latentGradient
        case let .linear(d): return d.latentGradient
        }
    }

    public var parameters: [Parameter<T>] {
        switch self {
        case let .nonlinear(d): return d.parameters
        case let .linear(d): return d.parameters
        }
    }

    public var batchNorms: [BatchNorm<T>] {
        switch self {
        case let .nonlinear(d): return d.batchNorms
        case let .linear(d): return d.batchNorms
        }
    }

    /// Logits (and dropout logits) of every row.
    public func forward(_ z: UnsafePointer<T>, rows: Int, categories: UnsafePointer<Int32>?, keys: Int, training: Bool,
                        generator: inout SeededGenerator) {
        forwardHidden(z, rows: rows, categories: categories, keys: keys, training: training, generator: &generator)
        forwardOutput(0..<rows, categories: categories, keys: keys)
    }

    /// What comes before the per-part output: the hidden layers, or the linear decoder's whole output.
    @inline(__always)
    public func forwardHidden(_ z: UnsafePointer<T>, rows: Int, categories: UnsafePointer<Int32>?, keys: Int, training: Bool,
                              generator: inout SeededGenerator) {
        switch self {
        case let .nonlinear(d): d.forwardHidden(z, rows: rows, categories: categories, keys: keys, training: training, generator: &generator)
        case let .linear(d): d.forward(z, rows: rows, categories: categories, keys: keys, training: training)
        }
    }

    @inline(__always)
    public func forwardOutput(_ rows: Range<Int>, categories: UnsafePointer<Int32>?, keys: Int) {
        if case let .nonlinear(d) = self { d.forwardOutput(rows, categories: categories, keys: keys) }
    }

    @inline(__always)
    public func outputInputGradient(_ rows: Range<Int>, logitGradient: UnsafePointer<T>, dropoutGradient: UnsafePointer<T>?) {
        if case let .nonlinear(d) = self { d.outputInputGradient(rows, logitGradient: logitGradient, dropoutGradient: dropoutGradient) }
    }

    /// The rest of the backward pass once the likelihood has written the logit gradients of every
    /// row (which it may overwrite); leaves d loss / d z in `latentGradient`.
    @inline(__always)
    public func backward(_ z: UnsafePointer<T>, rows: Int, categories: UnsafePointer<Int32>?, keys: Int,
                         logitGradient: UnsafeMutablePointer<T>, dropoutGradient: UnsafeMutablePointer<T>?) {
        switch self {
        case let .nonlinear(d):
            d.backward(z, rows: rows, categories: categories, keys: keys, logitGradient: logitGradient, dropoutGradient: dropoutGradient)
        case let .linear(d):
            d.backward(z, rows: rows, categories: categories, keys: keys, logitGradient: logitGradient, dropoutGradient: dropoutGradient)
        }
    }
}
