import CellWeaveCore
import RealModule

/// q(z | x, s): hidden layers on log1p counts (the first one sparse), then linear heads for the
/// mean and the variance (exp + 1e-4, as scVI).
public final class Encoder<T: ModelScalar> {
    public let layers: [HiddenLayer<T>]
    public let meanHead: Linear<T>
    public let varianceHead: Linear<T>
    public let latent: Int
    public let mean: Buffer<T>
    public let variance: Buffer<T>
    let usesCovariates: Bool
    static var varianceFloor: T { 1e-4 }
    private let hiddenGradients: [Buffer<T>]

    /// `inputs`: the modality's features (default the configuration's genes); `name` prefixes the
    /// parameters' names.
    public init(configuration c: ModelConfiguration, inputs: Int? = nil, name: String = "encoder", capacity: Int, parts: Int = 1,
                generator: inout SeededGenerator) {
        usesCovariates = c.encodeCovariates
        latent = c.latent
        let categories = c.encodeCovariates ? c.totalCategories : 0
        layers = (0..<c.layers).map { l in
            HiddenLayer(name: "\(name).\(l)", inputs: l == 0 ? inputs ?? c.genes : c.hidden, outputs: c.hidden, covariateCategories: categories,
                        normalization: c.normalization, dropoutRate: c.dropoutRate, capacity: capacity, parts: parts, generator: &generator)
        }
        meanHead = Linear(name: name + ".mean", inputs: c.hidden, outputs: c.latent, parts: parts, generator: &generator)
        varianceHead = Linear(name: name + ".variance", inputs: c.hidden, outputs: c.latent, parts: parts, generator: &generator)
        mean = Buffer(count: capacity * c.latent)
        variance = Buffer(count: capacity * c.latent)
        hiddenGradients = (0..<c.layers).map { _ in Buffer(count: capacity * c.hidden) }
    }

    public var parameters: [Parameter<T>] { layers.flatMap(\.parameters) + meanHead.parameters + varianceHead.parameters }
    public var batchNorms: [BatchNorm<T>] { layers.compactMap(\.batchNorm) }

    private func input(of l: Int, _ batch: SparseBatch<T>) -> LayerInput<T> {
        l == 0 ? .sparse(batch) : .dense(UnsafePointer(layers[l - 1].output.pointer))
    }

    public func forward(_ batch: SparseBatch<T>, categories: UnsafePointer<Int32>?, training: Bool, generator: inout SeededGenerator) {
        let rows = batch.rows, keys = usesCovariates ? batch.covariateKeys : 0
        for l in layers.indices {
            layers[l].forward(input(of: l, batch), rows: rows, categories: categories, keys: keys, training: training, share: batch.share,
                              generator: &generator)
        }
        let h = UnsafePointer(layers[layers.count - 1].output.pointer)
        meanHead.forward(h, rows: rows, categories: nil, keys: 0, into: mean.pointer)
        varianceHead.forward(h, rows: rows, categories: nil, keys: 0, into: variance.pointer)
        for k in 0..<(rows * latent) { variance[k] = T.exp(variance[k]) + Self.varianceFloor }
    }

    /// dMean and dVariance (rows x latent) come from the KL and the reparameterisation;
    /// dVariance is overwritten.
    public func backward(_ batch: SparseBatch<T>, categories: UnsafePointer<Int32>?, meanGradient: UnsafePointer<T>,
                         varianceGradient: UnsafeMutablePointer<T>) {
        let rows = batch.rows, keys = usesCovariates ? batch.covariateKeys : 0, last = layers.count - 1
        for k in 0..<(rows * latent) { varianceGradient[k] *= variance[k] - Self.varianceFloor }
        let h = UnsafePointer(layers[last].output.pointer), dh = hiddenGradients[last].pointer
        meanHead.backward(meanGradient, input: h, rows: rows, categories: nil, keys: 0, inputGradient: dh)
        varianceHead.accumulateGradients(varianceGradient, input: h, rows: rows, categories: nil, keys: 0)
        varianceHead.inputGradient(varianceGradient, rows: rows, into: dh, accumulate: true)
        for l in layers.indices.reversed() {
            layers[l].backward(hiddenGradients[l].pointer, input: input(of: l, batch), rows: rows, categories: categories, keys: keys,
                               inputGradient: l == 0 ? nil : hiddenGradients[l - 1].pointer)
        }
    }
}
