import CellWeaveCore

/// The step of a model of several modalities: experts from each modality's encoder, their
/// product with the prior for every ELBO term of the batch (a cell's joint posterior, and its
/// modalities alone), a sample of z per term, each decoder on its terms' rows, the KL of every
/// term, and everything back to the encoders. Terms are weighted as `ModelBatch` says; the loss
/// is per cell. The buffers are the model's, allocated once.
final class ExpertFusion<T: ModelScalar> {
    let modalities: Int
    let latent: Int
    let mean: Buffer<T>, variance: Buffer<T>, epsilon: Buffer<T>, z: Buffer<T>
    let latentGradient: Buffer<T>, meanGradient: Buffer<T>, varianceGradient: Buffer<T>
    let decoderLatent: Buffer<T>, decoderWeights: Buffer<T>
    let logLikelihood: Buffer<Double>, extraKL: Buffer<Double>, kl: Buffer<Double>
    private let noise: GaussianNoise
    let expertMeanGradients: [Buffer<T>], expertVarianceGradients: [Buffer<T>]
    private let meanRows: UnsafeMutablePointer<UnsafePointer<T>>, varianceRows: UnsafeMutablePointer<UnsafePointer<T>>
    private let meanGradientRows: UnsafeMutablePointer<UnsafeMutablePointer<T>>, varianceGradientRows: UnsafeMutablePointer<UnsafeMutablePointer<T>>

    init(configuration c: ModelConfiguration, capacity: Int, decoderRows: Int, parts: Int) {
        modalities = c.extraModalities.count + 1
        latent = c.latent
        // A cell's joint term plus one per modality alone.
        let terms = capacity * (modalities + 1), n = terms * c.latent
        (mean, variance, epsilon, z) = (Buffer(count: n), Buffer(count: n), Buffer(count: n), Buffer(count: n))
        (latentGradient, meanGradient, varianceGradient) = (Buffer(count: n), Buffer(count: n), Buffer(count: n))
        decoderLatent = Buffer(count: decoderRows * c.latent)
        decoderWeights = Buffer(count: decoderRows)
        (logLikelihood, extraKL, kl) = (Buffer(count: decoderRows), Buffer(count: decoderRows), Buffer(count: terms))
        noise = GaussianNoise(capacity: n, parts: parts)
        expertMeanGradients = (0..<modalities).map { _ in Buffer(count: capacity * c.latent) }
        expertVarianceGradients = (0..<modalities).map { _ in Buffer(count: capacity * c.latent) }
        meanRows = .allocate(capacity: modalities)
        varianceRows = .allocate(capacity: modalities)
        meanGradientRows = .allocate(capacity: modalities)
        varianceGradientRows = .allocate(capacity: modalities)
    }

    deinit {
        meanRows.deallocate(); varianceRows.deallocate(); meanGradientRows.deallocate(); varianceGradientRows.deallocate()
    }

    private func encoder(_ model: VariationalAutoencoder<T>, _ k: Int) -> Encoder<T> { k == 0 ? model.encoder : model.extras[k - 1].encoder }
    private func decoder(_ model: VariationalAutoencoder<T>, _ k: Int) -> AnyModalityDecoder<T> { k == 0 ? .geneExpression(model.rna) : model.extras[k - 1].decoder }
    private func expertBatch(_ batch: ModelBatch<T>, _ k: Int) -> SparseBatch<T> { k == 0 ? batch.rna : batch.experts[k - 1] }

    /// Each modality's encoder on its cells of the batch.
    func encodeExperts(_ model: VariationalAutoencoder<T>, _ batch: ModelBatch<T>, training: Bool, generator: inout SeededGenerator) {
        for k in 0..<modalities {
            let b = expertBatch(batch, k)
            guard b.rows > 0 else { continue }
            b.categories.withUnsafeBufferPointer { codes in
                encoder(model, k).forward(b, categories: b.covariateKeys > 0 ? codes.baseAddress : nil, training: training, generator: &generator)
            }
        }
    }

    /// The posterior of term t (the product of the experts of its modalities with the prior) into
    /// mean and variance row t.
    func fuse(_ model: VariationalAutoencoder<T>, _ batch: ModelBatch<T>, term t: Int) {
        let d = latent, m = modalities, i = Int(batch.termCell[t]), set = batch.termExperts[t]
        var q = 0
        for k in 0..<m where set & (1 << k) != 0 {
            let row = Int(batch.expertRow[i * m + k]), e = encoder(model, k)
            meanRows[q] = UnsafePointer(e.mean.pointer + row * d)
            varianceRows[q] = UnsafePointer(e.variance.pointer + row * d)
            q += 1
        }
        ProductOfExperts.forward(means: UnsafeBufferPointer(start: meanRows, count: q), variances: UnsafeBufferPointer(start: varianceRows, count: q),
                                 dimensions: d, mean: mean.pointer + t * d, variance: variance.pointer + t * d)
    }

    /// Posterior means of the batch's cells into rows of `out` (cells x latent): the joint posterior
    /// of every modality each cell has, or with `modality` (0 RNA, k the k-th further one) that
    /// modality's expert with the prior alone; NaN rows for cells without it.
    func posteriorMeans(_ model: VariationalAutoencoder<T>, _ batch: ModelBatch<T>, modality: Int?, into out: UnsafeMutablePointer<T>,
                        variances: UnsafeMutablePointer<T>?) {
        var unused = SeededGenerator(seed: 0)
        encodeExperts(model, batch, training: false, generator: &unused)
        let d = latent, m = modalities
        for i in 0..<batch.cells {
            var q = 0
            for k in 0..<m where (modality ?? k) == k && batch.expertRow[i * m + k] >= 0 {
                let row = Int(batch.expertRow[i * m + k]), e = encoder(model, k)
                meanRows[q] = UnsafePointer(e.mean.pointer + row * d)
                varianceRows[q] = UnsafePointer(e.variance.pointer + row * d)
                q += 1
            }
            guard q > 0 else {
                (out + i * d).update(repeating: .nan, count: d)
                variances.map { ($0 + i * d).update(repeating: .nan, count: d) }
                continue
            }
            ProductOfExperts.forward(means: UnsafeBufferPointer(start: meanRows, count: q), variances: UnsafeBufferPointer(start: varianceRows, count: q),
                                     dimensions: d, mean: out + i * d, variance: variances.map { $0 + i * d } ?? variance.pointer)
        }
    }

    func step(_ model: VariationalAutoencoder<T>, _ batch: ModelBatch<T>, klWeight: Double, training: Bool, gradients: Bool,
              gradientsAreZero: Bool, generator: inout SeededGenerator) -> MinibatchLoss {
        let d = latent, m = modalities, cells = batch.cells, terms = batch.terms
        precondition(cells > 0 && cells <= model.capacity, "minibatch of \(cells) cells for a model built for \(model.capacity)")
        if gradients && !gradientsAreZero { for p in model.parameters { p.gradient.zero() } }
        encodeExperts(model, batch, training: training, generator: &generator)
        for t in 0..<terms { fuse(model, batch, term: t) }
        noise.fill(epsilon.pointer, count: terms * d, generator: &generator)
        for k in 0..<(terms * d) { z[k] = mean[k] + variance[k].squareRoot() * epsilon[k] }
        if gradients { latentGradient.pointer.update(repeating: 0, count: terms * d) }
        var loss = MinibatchLoss()
        let scale = 1 / T(cells)
        for k in 0..<m {
            let rows = batch.decoderTerms[k]
            guard !rows.isEmpty else { continue }
            for (r, t) in rows.enumerated() {
                (decoderLatent.pointer + r * d).update(from: z.pointer + Int(t) * d, count: d)
                decoderWeights[r] = batch.termWeight[Int(t)]
            }
            let dec = decoder(model, k)
            dec.reconstruct(decoderLatent.pointer, batch: batch.decoderBatches[k], training: training, lossScale: gradients ? scale : nil,
                            rowWeights: decoderWeights.pointer, klWeight: T(klWeight), logLikelihood: logLikelihood.pointer,
                            extraKL: extraKL.pointer, generator: &generator)
            for (r, t) in rows.enumerated() {
                let w = Double(decoderWeights[r])
                loss.reconstruction -= w * logLikelihood[r]
                loss.kl += w * extraKL[r]
                if gradients {
                    let source = dec.latentGradient.pointer + r * d, target = latentGradient.pointer + Int(t) * d
                    for j in 0..<d { target[j] += source[j] }
                }
            }
        }
        if gradients {
            meanGradient.pointer.update(repeating: 0, count: terms * d)
            varianceGradient.pointer.update(repeating: 0, count: terms * d)
        }
        batch.termWeight.withUnsafeBufferPointer { weights in
            GaussianKL.evaluate(mean: mean.pointer, variance: variance.pointer, rows: terms, dimensions: d, perRow: kl.pointer,
                                gradientScale: T(klWeight) * scale, rowWeights: weights.baseAddress,
                                meanGradient: gradients ? meanGradient.pointer : nil, varianceGradient: gradients ? varianceGradient.pointer : nil)
            for t in 0..<terms { loss.kl += Double(weights[t]) * kl[t] }
        }
        loss.cells = cells
        guard gradients else { return loss }
        VariationalAutoencoder<T>.reparameterisationBackward(latentGradient: latentGradient.pointer, variance: variance.pointer,
                                                             epsilon: epsilon.pointer, count: terms * d, meanGradient: meanGradient.pointer,
                                                             varianceGradient: varianceGradient.pointer)
        for k in 0..<m {
            let rows = expertBatch(batch, k).rows * d
            expertMeanGradients[k].pointer.update(repeating: 0, count: rows)
            expertVarianceGradients[k].pointer.update(repeating: 0, count: rows)
        }
        for t in 0..<terms {
            let i = Int(batch.termCell[t]), set = batch.termExperts[t]
            var q = 0
            for k in 0..<m where set & (1 << k) != 0 {
                let row = Int(batch.expertRow[i * m + k]), e = encoder(model, k)
                meanRows[q] = UnsafePointer(e.mean.pointer + row * d)
                varianceRows[q] = UnsafePointer(e.variance.pointer + row * d)
                meanGradientRows[q] = expertMeanGradients[k].pointer + row * d
                varianceGradientRows[q] = expertVarianceGradients[k].pointer + row * d
                q += 1
            }
            ProductOfExperts.backward(means: UnsafeBufferPointer(start: meanRows, count: q), variances: UnsafeBufferPointer(start: varianceRows, count: q),
                                      dimensions: d, mean: mean.pointer + t * d, variance: variance.pointer + t * d,
                                      meanGradient: meanGradient.pointer + t * d, varianceGradient: varianceGradient.pointer + t * d,
                                      expertMeanGradients: UnsafeBufferPointer(start: meanGradientRows, count: q),
                                      expertVarianceGradients: UnsafeBufferPointer(start: varianceGradientRows, count: q))
        }
        for k in 0..<m {
            let b = expertBatch(batch, k)
            guard b.rows > 0 else { continue }
            b.categories.withUnsafeBufferPointer { codes in
                encoder(model, k).backward(b, categories: b.covariateKeys > 0 ? codes.baseAddress : nil,
                                           meanGradient: expertMeanGradients[k].pointer, varianceGradient: expertVarianceGradients[k].pointer)
            }
        }
        return loss
    }
}
