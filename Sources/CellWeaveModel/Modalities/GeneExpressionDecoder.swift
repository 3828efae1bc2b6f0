import CellWeaveCore

/// RNA's decoder with its count likelihood (scVI's generative model, or LDVAE's with the linear
/// decoder): covariates injected into the decoder network, softmax proportions times the observed library size, NB/ZINB/Poisson with
/// inverse dispersions per gene or per gene and batch. The decoder's output products run inside
/// the likelihood's parallel pass, part by part of the rows.
public final class GeneExpressionDecoder<T: ModelScalar>: ModalityDecoder {
    public let network: DecoderNetwork<T>
    public let likelihood: CountLikelihood
    public let dispersion: DispersionKind
    /// log theta, dispersionRows x genes (scVI's px_r).
    public let logTheta: Parameter<T>?
    public let features: Int
    private let logitGradient: Buffer<T>
    private let dropoutGradient: Buffer<T>?
    private let workspace: LikelihoodWorkspace<T>

    public init(configuration c: ModelConfiguration, capacity: Int, parts: Int, generator: inout SeededGenerator) {
        network = DecoderNetwork(configuration: c, capacity: capacity, parts: parts, generator: &generator)
        likelihood = c.likelihood
        dispersion = c.dispersion
        features = c.genes
        logTheta = c.likelihood.hasDispersion
            ? Parameter(name: "log_theta", shape: [c.dispersionRows, c.genes],
                        initial: (0..<(c.dispersionRows * c.genes)).map { _ in T(generator.nextGaussian()) })
            : nil
        logitGradient = Buffer(count: capacity * c.genes)
        dropoutGradient = c.likelihood.hasDropout ? Buffer(count: capacity * c.genes) : nil
        workspace = LikelihoodWorkspace(genes: c.genes, dispersionRows: c.dispersionRows, parts: parts)
    }

    public var parameters: [Parameter<T>] { network.parameters + (logTheta.map { [$0] } ?? []) }
    public var batchNorms: [BatchNorm<T>] { network.batchNorms }
    public var latentGradient: Buffer<T> { network.latentGradient }

    public func reconstruct(_ z: UnsafePointer<T>, batch: SparseBatch<T>, training: Bool, lossScale: T?,
                            rowWeights: UnsafePointer<T>?, klWeight: T, logLikelihood: UnsafeMutablePointer<Double>,
                            extraKL: UnsafeMutablePointer<Double>, generator: inout SeededGenerator) {
        let rows = batch.rows, keys = batch.covariateKeys, gradients = lossScale != nil
        for i in 0..<rows { extraKL[i] = 0 }
        batch.categories.withUnsafeBufferPointer { codes in
            let categories = keys > 0 ? codes.baseAddress : nil
            network.forwardHidden(z, rows: rows, categories: categories, keys: keys, training: training, generator: &generator)
            // Per part of the rows: logits, likelihood and its gradient, and the gradient back to the
            // decoder's last hidden layer, in one parallel pass.
            let network = self.network, dLogits = logitGradient.pointer, dDropout = dropoutGradient?.pointer
            likelihood.minibatch(batch, logits: network.logits.pointer, dropoutLogits: network.dropoutLogits?.pointer,
                                 logTheta: logTheta?.value.pointer, dispersion: dispersion, gradientScale: -(lossScale ?? 0),
                                 rowWeights: rowWeights,
                                 logitGradient: gradients ? dLogits : nil,
                                 dropoutGradient: gradients ? dDropout : nil,
                                 logThetaGradient: gradients ? logTheta?.gradient.pointer : nil,
                                 rowLogLikelihood: logLikelihood, workspace: workspace,
                                 beforeRows: { network.forwardOutput($0, categories: categories, keys: keys) },
                                 afterRows: { if gradients { network.outputInputGradient($0, logitGradient: dLogits, dropoutGradient: dDropout) } })
            guard gradients else { return }
            network.backward(z, rows: rows, categories: categories, keys: keys,
                             logitGradient: logitGradient.pointer, dropoutGradient: dropoutGradient?.pointer)
        }
    }
}
