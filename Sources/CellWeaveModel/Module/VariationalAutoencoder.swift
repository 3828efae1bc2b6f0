import CellWeaveCore
import RealModule

/// The negative-binomial conditional VAE (DESIGN.md section 4): encoder, reparameterised
/// Gaussian latent, decoder with covariates injected, count likelihood with the observed library
/// size. With further modalities (surface protein), each has an encoder giving a Gaussian expert
/// and a decoder with its likelihood; a cell's posterior is the product of its experts with the
/// prior, and training takes the MVAE objective (`ModelBatch`). Every buffer is allocated once for
/// `capacity` cells; a step allocates nothing.
public final class VariationalAutoencoder<T: ModelScalar> {
    public let configuration: ModelConfiguration
    public let capacity: Int
    /// RNA's encoder: the posterior in a model of RNA alone, RNA's expert otherwise.
    public let encoder: Encoder<T>
    /// RNA's decoder and count likelihood.
    public let rna: GeneExpressionDecoder<T>
    /// Modalities beyond RNA, in the configuration's order.
    public let extras: [ExpertModality<T>]
    /// z of the last step's cells (RNA alone).
    public let latent: Buffer<T>
    private let epsilon: Buffer<T>
    private let noise: GaussianNoise
    private let meanGradient: Buffer<T>
    private let varianceGradient: Buffer<T>
    private let logLikelihood: Buffer<Double>
    private let extraKL: Buffer<Double>
    private let klPerCell: Buffer<Double>
    private let fusion: ExpertFusion<T>?

    /// `threads` splits the matrix products and the element-wise passes; results depend on it
    /// only through the order of the dispersion-gradient sums. BLAS itself should run on one thread.
    public init(configuration c: ModelConfiguration, capacity: Int, threads: Int = 1, seed: UInt64) {
        configuration = c
        self.capacity = capacity
        var generator = SeededGenerator(seed: seed)
        let multimodal = !c.extraModalities.isEmpty
        // Decoders see a row per ELBO term that reconstructs them: a cell's joint posterior and each
        // of its modalities alone (its own, or every one it has with cross-modal terms).
        let decoderRows = multimodal ? capacity * (c.crossModal.decodesAcrossModalities ? c.extraModalities.count + 2 : 2) : capacity
        encoder = Encoder(configuration: c, capacity: capacity, parts: threads, generator: &generator)
        rna = GeneExpressionDecoder(configuration: c, capacity: decoderRows, parts: threads, generator: &generator)
        extras = c.extraModalities.map { m in
            ExpertModality(configuration: c, modality: m, capacity: capacity, decoderRows: decoderRows, parts: threads, generator: &generator)
        }
        latent = Buffer(count: capacity * c.latent)
        epsilon = Buffer(count: capacity * c.latent)
        noise = GaussianNoise(capacity: capacity * c.latent, parts: threads)
        meanGradient = Buffer(count: capacity * c.latent)
        varianceGradient = Buffer(count: capacity * c.latent)
        logLikelihood = Buffer(count: capacity)
        extraKL = Buffer(count: capacity)
        klPerCell = Buffer(count: capacity)
        fusion = multimodal ? ExpertFusion(configuration: c, capacity: capacity, decoderRows: decoderRows, parts: threads) : nil
    }

    /// RNA's decoder network and inverse dispersions.
    public var decoder: DecoderNetwork<T> { rna.network }
    public var logTheta: Parameter<T>? { rna.logTheta }

    public var parameters: [Parameter<T>] { encoder.parameters + rna.parameters + extras.flatMap(\.parameters) }

    /// Running statistics of the batch norms: state, not trained, saved with the weights.
    public var runningStatistics: [(name: String, buffer: Buffer<T>)] { batchNorms.flatMap(\.runningStatistics) }

    public var batchNorms: [BatchNorm<T>] { encoder.batchNorms + rna.batchNorms + extras.flatMap(\.batchNorms) }

    /// A minibatch of this model's shape: its further modalities and kind of terms.
    public func makeBatch(covariateKeys: Int) -> ModelBatch<T> {
        ModelBatch(covariateKeys: covariateKeys, extraModalities: extras.count, crossModal: configuration.crossModal, parts: encoder.meanHead.parts)
    }

    /// One minibatch of a model of any modalities: the MVAE objective over the batch's terms (the
    /// plain ELBO for RNA alone). The loss is per cell: terms are summed and divided by the cells.
    @discardableResult
    public func step(_ batch: ModelBatch<T>, klWeight: Double, training: Bool, gradients: Bool, gradientsAreZero: Bool = false,
                     generator: inout SeededGenerator) -> MinibatchLoss {
        guard let fusion else {
            return step(batch.rna, klWeight: klWeight, training: training, gradients: gradients, gradientsAreZero: gradientsAreZero,
                        generator: &generator)
        }
        return fusion.step(self, batch, klWeight: klWeight, training: training, gradients: gradients, gradientsAreZero: gradientsAreZero,
                           generator: &generator)
    }

    /// One minibatch of RNA alone: forward pass with a sampled z; when `gradients`, the gradients
    /// of the mean loss per cell (reconstruction + klWeight * KL) replace those held by the
    /// parameters (`gradientsAreZero`: the caller has already zeroed them, as Adam does when it
    /// reads them). `training` selects batch statistics and dropout, as torch's train mode.
    @discardableResult
    public func step(_ batch: SparseBatch<T>, klWeight: Double, training: Bool, gradients: Bool, gradientsAreZero: Bool = false,
                     generator: inout SeededGenerator) -> MinibatchLoss {
        precondition(extras.isEmpty, "a model of several modalities steps on a ModelBatch")
        let rows = batch.rows, c = configuration, n = rows * c.latent
        // Means over the global minibatch when this process holds part of it.
        let lossCells = batch.share?.cells ?? rows
        precondition((rows > 0 || batch.share != nil) && rows <= capacity, "minibatch of \(rows) cells for a model built for \(capacity)")
        if gradients && !gradientsAreZero { for p in parameters { p.gradient.zero() } }
        batch.categories.withUnsafeBufferPointer { codes in
            encoder.forward(batch, categories: batch.covariateKeys > 0 ? codes.baseAddress : nil, training: training, generator: &generator)
        }
        if let share = batch.share {
            share.gaussians(into: epsilon.pointer, count: c.latent, generator: &generator)
        } else {
            noise.fill(epsilon.pointer, count: n, generator: &generator)
        }
        for k in 0..<n { latent[k] = encoder.mean[k] + encoder.variance[k].squareRoot() * epsilon[k] }
        rna.reconstruct(latent.pointer, batch: batch, training: training, lossScale: gradients ? 1 / T(lossCells) : nil, rowWeights: nil,
                        klWeight: T(klWeight), logLikelihood: logLikelihood.pointer, extraKL: extraKL.pointer, generator: &generator)
        if gradients {
            meanGradient.zero(); varianceGradient.zero()
        }
        GaussianKL.evaluate(mean: encoder.mean.pointer, variance: encoder.variance.pointer, rows: rows, dimensions: c.latent,
                            perRow: klPerCell.pointer, gradientScale: T(klWeight) / T(lossCells),
                            meanGradient: gradients ? meanGradient.pointer : nil,
                            varianceGradient: gradients ? varianceGradient.pointer : nil)
        var loss = MinibatchLoss()
        for i in 0..<rows { loss.reconstruction -= logLikelihood[i]; loss.kl += klPerCell[i] }
        loss.cells = rows
        guard gradients else { return loss }
        Self.reparameterisationBackward(latentGradient: rna.latentGradient.pointer, variance: encoder.variance.pointer,
                                        epsilon: epsilon.pointer, count: n, meanGradient: meanGradient.pointer,
                                        varianceGradient: varianceGradient.pointer)
        batch.categories.withUnsafeBufferPointer { codes in
            encoder.backward(batch, categories: batch.covariateKeys > 0 ? codes.baseAddress : nil, meanGradient: meanGradient.pointer,
                             varianceGradient: varianceGradient.pointer)
        }
        return loss
    }

    /// Through z = mean + sqrt(variance) * epsilon, into the mean and variance gradients.
    static func reparameterisationBackward(latentGradient dz: UnsafePointer<T>, variance: UnsafePointer<T>, epsilon: UnsafePointer<T>,
                                           count n: Int, meanGradient: UnsafeMutablePointer<T>, varianceGradient: UnsafeMutablePointer<T>) {
        for k in 0..<n {
            meanGradient[k] += dz[k]
            varianceGradient[k] += dz[k] * epsilon[k] / (2 * variance[k].squareRoot())
        }
    }

    /// RNA's encoder on the batch's cells (inference mode), into `encoder.mean` and `variance`: the
    /// posterior means of a model of RNA alone (`ExpertFusion.posteriorMeans` fuses the experts of
    /// a model of several).
    public func encodeMeans(_ batch: SparseBatch<T>) {
        var unused = SeededGenerator(seed: 0)
        batch.categories.withUnsafeBufferPointer { codes in
            encoder.forward(batch, categories: batch.covariateKeys > 0 ? codes.baseAddress : nil, training: false, generator: &unused)
        }
    }

    /// Posterior means of the batch's cells into `out` (cells x latent, inference mode), and their
    /// variances into `variances` if given: the joint posterior, or that of one modality alone (0
    /// RNA, k the k-th further one), NaN rows where a cell lacks it.
    public func posteriorMeans(_ batch: ModelBatch<T>, modality: Int? = nil, into out: UnsafeMutablePointer<T>,
                               variances: UnsafeMutablePointer<T>? = nil) {
        guard let fusion else {
            encodeMeans(batch.rna)
            out.update(from: encoder.mean.pointer, count: batch.cells * configuration.latent)
            variances?.update(from: encoder.variance.pointer, count: batch.cells * configuration.latent)
            return
        }
        fusion.posteriorMeans(self, batch, modality: modality, into: out, variances: variances)
    }

    /// Normalised expression rho = softmax(decoder(z, s)) for rows of z with the given covariate
    /// codes (rows x keys, offset), into `decoder.logits` (inference mode).
    public func decodeProportions(_ z: UnsafePointer<T>, rows: Int, categories: UnsafePointer<Int32>?, keys: Int) {
        var unused = SeededGenerator(seed: 0)
        decoder.forward(z, rows: rows, categories: categories, keys: keys, training: false, generator: &unused)
        let g = configuration.genes
        for i in 0..<rows {
            let row = decoder.logits.pointer + i * g
            var top = row[0]
            for j in 1..<g where row[j] > top { top = row[j] }
            var sum: T = 0
            for j in 0..<g { row[j] = T.exp(row[j] - top); sum += row[j] }
            for j in 0..<g { row[j] /= sum }
        }
    }
}
