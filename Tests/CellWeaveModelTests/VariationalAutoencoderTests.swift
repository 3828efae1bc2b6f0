import CellWeaveCore
@testable import CellWeaveModel
import Testing

@Suite struct VariationalAutoencoderTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let likelihood: CountLikelihood
        let normalization: Normalization
        let dispersion: DispersionKind
        let encodeCovariates: Bool
        var training = true
        /// The first layer's input taken as sparse (one axpy per non-zero) or as dense rows.
        var denseInput = false
        var decoder = DecoderKind.nonlinear
        var testDescription: String {
            "\(likelihood) \(normalization) \(dispersion) encodeCovariates=\(encodeCovariates)\(training ? "" : " inference mode")"
                + (denseInput ? " dense input" : "") + (decoder == .linear ? " linear decoder" : "")
        }
    }

    static let cases = [
        Case(likelihood: .nb, normalization: .batch, dispersion: .gene, encodeCovariates: false),
        Case(likelihood: .nb, normalization: .layer, dispersion: .geneBatch, encodeCovariates: true),
        Case(likelihood: .zinb, normalization: .batch, dispersion: .geneBatch, encodeCovariates: true),
        Case(likelihood: .zinb, normalization: .none, dispersion: .gene, encodeCovariates: false),
        Case(likelihood: .poisson, normalization: .batch, dispersion: .gene, encodeCovariates: true),
        // Query mapping trains in inference mode: running batch-norm statistics, no dropout.
        Case(likelihood: .nb, normalization: .batch, dispersion: .geneBatch, encodeCovariates: true, training: false),
        Case(likelihood: .nb, normalization: .batch, dispersion: .gene, encodeCovariates: true, denseInput: true),
        // LDVAE: batch-normalised linear map from z and the covariates to the logits.
        Case(likelihood: .nb, normalization: .batch, dispersion: .gene, encodeCovariates: false, decoder: .linear),
        Case(likelihood: .zinb, normalization: .batch, dispersion: .geneBatch, encodeCovariates: true, decoder: .linear),
        Case(likelihood: .poisson, normalization: .none, dispersion: .gene, encodeCovariates: false, decoder: .linear),
        Case(likelihood: .nb, normalization: .batch, dispersion: .gene, encodeCovariates: false, training: false, decoder: .linear),
    ]

    /// Every parameter's gradient of the whole minibatch loss (encoder with dropout and sparse
    /// input, reparameterisation, decoder with injected covariates, likelihood, KL) equals central
    /// differences. Two hidden layers, two covariate keys; the same draws for every evaluation.
    @Test(arguments: cases)
    func gradientsMatchFiniteDifferences(_ c: Case) {
        let data = ModelTestData.data(cells: 7, genes: 6, categoryCounts: [3, 2], seed: 11)
        var config = ModelConfiguration(genes: 6, categoryCounts: [3, 2])
        config.latent = 3
        config.hidden = 5
        config.layers = 2
        config.likelihood = c.likelihood
        config.normalization = c.normalization
        config.dispersion = c.dispersion
        config.encodeCovariates = c.encodeCovariates
        config.dropoutRate = 0.2
        config.decoder = c.decoder
        let model = VariationalAutoencoder<Double>(configuration: config, capacity: 8, threads: 2, seed: 5)
        model.encoder.layers[0].linear.denseInputAbove = c.denseInput ? 0 : 2
        let batch = model.makeBatch(covariateKeys: 2)
        batch.gather(data, cells: 0..<data.cells)
        let checked = ModelTestData.checkGradients(model, batch, training: c.training).values.reduce(0, +)
        #expect(checked > (c.decoder == .linear ? 150 : 250))
    }

    /// Inference uses the running statistics and no dropout: the same cells give the same means.
    @Test func encodeMeansIsDeterministic() {
        let data = ModelTestData.data(cells: 7, genes: 6, categoryCounts: [3], seed: 1)
        let batch = ModelTestData.batch(data, Float.self)
        let model = VariationalAutoencoder<Float>(configuration: ModelConfiguration(genes: 6, categoryCounts: [3]), capacity: 8, seed: 2)
        model.encodeMeans(batch)
        let first = model.encoder.mean.array
        model.encodeMeans(batch)
        #expect(model.encoder.mean.array == first)
    }
}
