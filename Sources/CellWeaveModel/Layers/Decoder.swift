import CellWeaveCore

/// p(x | z, s): hidden layers with the covariates injected into every one, then a linear head to
/// gene logits (softmax proportions) and, for zinb, a head to zero-inflation logits.
public final class Decoder<T: ModelScalar> {
    public let layers: [HiddenLayer<T>]
    public let scaleHead: Linear<T>
    public let dropoutHead: Linear<T>?
    public let logits: Buffer<T>
    public let dropoutLogits: Buffer<T>?
    /// d loss / d z after backward.
    public let latentGradient: Buffer<T>
    private let hiddenGradients: [Buffer<T>]

    public init(configuration c: ModelConfiguration, capacity: Int, parts: Int = 1, generator: inout SeededGenerator) {
        layers = (0..<c.layers).map { l in
            HiddenLayer(name: "decoder.\(l)", inputs: l == 0 ? c.latent : c.hidden, outputs: c.hidden,
                        covariateCategories: c.totalCategories, normalization: c.normalization, dropoutRate: 0,
                        capacity: capacity, parts: parts, generator: &generator)
        }
        scaleHead = Linear(name: "decoder.scale", inputs: c.hidden, outputs: c.genes,
                           covariateCategories: c.injectCovariatesIntoOutput ? c.totalCategories : 0, parts: parts, generator: &generator)
        dropoutHead = c.likelihood.hasDropout ? Linear(name: "decoder.dropout", inputs: c.hidden, outputs: c.genes, parts: parts, generator: &generator) : nil
        logits = Buffer(count: capacity * c.genes)
        dropoutLogits = c.likelihood.hasDropout ? Buffer(count: capacity * c.genes) : nil
        latentGradient = Buffer(count: capacity * c.latent)
        hiddenGradients = (0..<c.layers).map { _ in Buffer(count: capacity * c.hidden) }
    }

    public var parameters: [Parameter<T>] {
        layers.flatMap(\.parameters) + scaleHead.parameters + (dropoutHead?.parameters ?? [])
    }
    public var batchNorms: [BatchNorm<T>] { layers.compactMap(\.batchNorm) }

    private func input(of l: Int, _ z: UnsafePointer<T>) -> LayerInput<T> {
        .dense(l == 0 ? z : UnsafePointer(layers[l - 1].output.pointer))
    }

    public func forward(_ z: UnsafePointer<T>, rows: Int, categories: UnsafePointer<Int32>?, keys: Int, training: Bool,
                        generator: inout SeededGenerator) {
        forwardHidden(z, rows: rows, categories: categories, keys: keys, training: training, generator: &generator)
        forwardOutput(0..<rows, categories: categories, keys: keys)
    }

    /// The hidden layers, for all rows.
    public func forwardHidden(_ z: UnsafePointer<T>, rows: Int, categories: UnsafePointer<Int32>?, keys: Int, training: Bool,
                              generator: inout SeededGenerator) {
        for l in layers.indices {
            layers[l].forward(input(of: l, z), rows: rows, categories: categories, keys: keys, training: training, generator: &generator)
        }
    }

    private var lastHidden: UnsafeMutablePointer<T> { layers[layers.count - 1].output.pointer }

    /// Gene logits (and dropout logits) of some rows, on the calling thread.
    public func forwardOutput(_ rows: Range<Int>, categories: UnsafePointer<Int32>?, keys: Int) {
        let h = UnsafePointer(lastHidden + rows.lowerBound * scaleHead.inputs), offset = rows.lowerBound * scaleHead.outputs
        scaleHead.forward(h, rows: rows.count, categories: categories.map { $0 + rows.lowerBound * keys }, keys: keys,
                          into: logits.pointer + offset, parts: 1)
        if let dropoutHead, let dropoutLogits {
            dropoutHead.forward(h, rows: rows.count, categories: nil, keys: 0, into: dropoutLogits.pointer + offset, parts: 1)
        }
    }

    /// d loss / d last hidden layer for some rows, from their logit gradients, on the calling thread.
    public func outputInputGradient(_ rows: Range<Int>, logitGradient: UnsafePointer<T>, dropoutGradient: UnsafePointer<T>?) {
        let dh = hiddenGradients[layers.count - 1].pointer + rows.lowerBound * scaleHead.inputs
        let offset = rows.lowerBound * scaleHead.outputs
        scaleHead.inputGradient(logitGradient + offset, rows: rows.count, into: dh, parts: 1)
        if let dropoutHead, let dropoutGradient {
            dropoutHead.inputGradient(dropoutGradient + offset, rows: rows.count, into: dh, accumulate: true, parts: 1)
        }
    }

    /// The heads' weight gradients and the hidden layers' backward pass, once `outputInputGradient`
    /// has run for every row; leaves d loss / d z in `latentGradient`.
    public func backward(_ z: UnsafePointer<T>, rows: Int, categories: UnsafePointer<Int32>?, keys: Int,
                         logitGradient: UnsafePointer<T>, dropoutGradient: UnsafePointer<T>?) {
        let h = UnsafePointer(lastHidden)
        scaleHead.accumulateGradients(logitGradient, input: h, rows: rows, categories: categories, keys: keys)
        if let dropoutHead, let dropoutGradient {
            dropoutHead.accumulateGradients(dropoutGradient, input: h, rows: rows, categories: nil, keys: 0)
        }
        for l in layers.indices.reversed() {
            layers[l].backward(hiddenGradients[l].pointer, input: input(of: l, z), rows: rows, categories: categories, keys: keys,
                               inputGradient: l == 0 ? latentGradient.pointer : hiddenGradients[l - 1].pointer)
        }
    }
}
