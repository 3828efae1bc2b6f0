import CellWeaveCore
import RealModule

/// The negative-binomial conditional VAE (DESIGN.md section 4): encoder, reparameterised
/// Gaussian latent, decoder with covariates injected, count likelihood with the observed library
/// size. Every buffer is allocated once for `capacity` cells; a step allocates nothing.
public final class VariationalAutoencoder<T: ModelScalar> {
    public let configuration: ModelConfiguration
    public let capacity: Int
    public let encoder: Encoder<T>
    public let decoder: Decoder<T>
    /// log theta, dispersionRows x genes (scVI's px_r).
    public let logTheta: Parameter<T>?
    public let latent: Buffer<T>
    private let epsilon: Buffer<T>
    private let meanGradient: Buffer<T>
    private let varianceGradient: Buffer<T>
    private let logitGradient: Buffer<T>
    private let dropoutGradient: Buffer<T>?
    private let logLikelihood: Buffer<Double>
    private let klPerCell: Buffer<Double>
    private let workspace: LikelihoodWorkspace<T>

    /// `threads` splits the matrix products and the element-wise passes; results depend on it
    /// only through the order of the dispersion-gradient sums. BLAS itself should run on one thread.
    public init(configuration c: ModelConfiguration, capacity: Int, threads: Int = 1, seed: UInt64) {
        configuration = c
        self.capacity = capacity
        var generator = SeededGenerator(seed: seed)
        encoder = Encoder(configuration: c, capacity: capacity, parts: threads, generator: &generator)
        decoder = Decoder(configuration: c, capacity: capacity, parts: threads, generator: &generator)
        logTheta = c.likelihood.hasDispersion
            ? Parameter(name: "log_theta", shape: [c.dispersionRows, c.genes],
                        initial: (0..<(c.dispersionRows * c.genes)).map { _ in T(generator.nextGaussian()) })
            : nil
        latent = Buffer(count: capacity * c.latent)
        epsilon = Buffer(count: capacity * c.latent)
        meanGradient = Buffer(count: capacity * c.latent)
        varianceGradient = Buffer(count: capacity * c.latent)
        logitGradient = Buffer(count: capacity * c.genes)
        dropoutGradient = c.likelihood.hasDropout ? Buffer(count: capacity * c.genes) : nil
        logLikelihood = Buffer(count: capacity)
        klPerCell = Buffer(count: capacity)
        workspace = LikelihoodWorkspace(genes: c.genes, dispersionRows: c.dispersionRows, parts: threads)
    }

    public var parameters: [Parameter<T>] { encoder.parameters + decoder.parameters + (logTheta.map { [$0] } ?? []) }

    /// Running statistics of the batch norms: state, not trained, saved with the weights.
    public var runningStatistics: [(name: String, buffer: Buffer<T>)] {
        (encoder.layers + decoder.layers).compactMap(\.batchNorm).flatMap {
            [($0.name + ".running_mean", $0.runningMean), ($0.name + ".running_var", $0.runningVariance)]
        }
    }

    /// One minibatch: forward pass with a sampled z; when `gradients`, the gradients of the mean
    /// loss per cell (reconstruction + klWeight * KL) replace those held by the parameters
    /// (`gradientsAreZero`: the caller has already zeroed them, as Adam does when it reads them).
    /// `training` selects batch statistics and dropout, as torch's train mode.
    @discardableResult
    public func step(_ batch: SparseBatch<T>, klWeight: Double, training: Bool, gradients: Bool, gradientsAreZero: Bool = false,
                     generator: inout SeededGenerator) -> MinibatchLoss {
        let rows = batch.rows, c = configuration, keys = batch.covariateKeys, n = rows * c.latent
        precondition(rows > 0 && rows <= capacity, "minibatch of \(rows) cells for a model built for \(capacity)")
        if gradients && !gradientsAreZero { for p in parameters { p.gradient.zero() } }
        return batch.categories.withUnsafeBufferPointer { codes in
            let categories = keys > 0 ? codes.baseAddress : nil
            encoder.forward(batch, categories: categories, training: training, generator: &generator)
            for k in 0..<n {
                epsilon[k] = T(generator.nextGaussian())
                latent[k] = encoder.mean[k] + encoder.variance[k].squareRoot() * epsilon[k]
            }
            decoder.forwardHidden(latent.pointer, rows: rows, categories: categories, keys: keys, training: training, generator: &generator)
            // Per part of the rows: logits, likelihood and its gradient, and the gradient back to the
            // decoder's last hidden layer, in one parallel pass.
            let scale = gradients ? -1 / T(rows) : 0
            let decoder = self.decoder, dLogits = logitGradient.pointer, dDropout = dropoutGradient?.pointer
            c.likelihood.minibatch(batch, logits: decoder.logits.pointer, dropoutLogits: decoder.dropoutLogits?.pointer,
                                   logTheta: logTheta?.value.pointer, dispersion: c.dispersion, gradientScale: scale,
                                   logitGradient: gradients ? dLogits : nil,
                                   dropoutGradient: gradients ? dDropout : nil,
                                   logThetaGradient: gradients ? logTheta?.gradient.pointer : nil,
                                   rowLogLikelihood: logLikelihood.pointer, workspace: workspace,
                                   beforeRows: { decoder.forwardOutput($0, categories: categories, keys: keys) },
                                   afterRows: { if gradients { decoder.outputInputGradient($0, logitGradient: dLogits, dropoutGradient: dDropout) } })
            if gradients {
                meanGradient.zero(); varianceGradient.zero()
            }
            GaussianKL.evaluate(mean: encoder.mean.pointer, variance: encoder.variance.pointer, rows: rows, dimensions: c.latent,
                                perRow: klPerCell.pointer, gradientScale: T(klWeight) / T(rows),
                                meanGradient: gradients ? meanGradient.pointer : nil,
                                varianceGradient: gradients ? varianceGradient.pointer : nil)
            var loss = MinibatchLoss()
            for i in 0..<rows { loss.reconstruction -= logLikelihood[i]; loss.kl += klPerCell[i] }
            loss.cells = rows
            guard gradients else { return loss }
            decoder.backward(latent.pointer, rows: rows, categories: categories, keys: keys,
                             logitGradient: logitGradient.pointer, dropoutGradient: dropoutGradient?.pointer)
            // Through z = mean + sqrt(variance) * epsilon.
            for k in 0..<n {
                let dz = decoder.latentGradient[k]
                meanGradient[k] += dz
                varianceGradient[k] += dz * epsilon[k] / (2 * encoder.variance[k].squareRoot())
            }
            encoder.backward(batch, categories: categories, meanGradient: meanGradient.pointer,
                             varianceGradient: varianceGradient.pointer)
            return loss
        }
    }

    /// Posterior means of z for the batch's cells (inference mode), into `encoder.mean`.
    public func encodeMeans(_ batch: SparseBatch<T>) {
        var unused = SeededGenerator(seed: 0)
        batch.categories.withUnsafeBufferPointer { codes in
            encoder.forward(batch, categories: batch.covariateKeys > 0 ? codes.baseAddress : nil, training: false, generator: &unused)
        }
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
