/// The architecture of the conditional VAE, stored with a trained model. Defaults are scVI's;
/// `cellweave train` chooses two layers (BENCHMARKS.md, "Training defaults").
public struct ModelConfiguration: Codable, Sendable, Equatable {
    public var genes: Int
    /// Categories of each categorical covariate key, the batch key first.
    public var categoryCounts: [Int]
    public var latent = 10
    public var hidden = 128
    public var layers = 1
    public var likelihood = CountLikelihood.nb
    public var dispersion = DispersionKind.gene
    public var normalization = Normalization.batch
    /// Dropout after each encoder hidden layer (scVI: 0.1; the decoder has none).
    public var dropoutRate = 0.1
    /// Inject the covariates into the encoder too (scVI's encode_covariates).
    public var encodeCovariates = false
    /// Inject the covariates into the decoder's output layer as well as its hidden layers: a
    /// per-gene offset of each batch's log expression. scVI injects them into the hidden layers
    /// only; with this, query mapping can absorb a new batch's gene-specific effects exactly.
    public var injectCovariatesIntoOutput = true
    /// RNA's decoder network (nil: nonlinear, as in models from before the linear decoder).
    public var decoder: DecoderKind?
    /// Modalities beyond RNA, each fused with RNA by a product of experts (nil in models of RNA alone,
    /// as models from before modalities are).
    public var modalities: [ModalityConfiguration]?
    /// Which modalities' own ELBO terms also reconstruct the cell's other modalities (nil: every
    /// modality's, as in models from before the choice).
    public var crossModalReconstruction: CrossModalReconstruction?

    public init(genes: Int, categoryCounts: [Int]) {
        self.genes = genes
        self.categoryCounts = categoryCounts
    }

    public var totalCategories: Int { categoryCounts.reduce(0, +) }
    public var dispersionRows: Int { dispersion == .geneBatch ? (categoryCounts.first ?? 1) : 1 }
    public var decoderKind: DecoderKind { decoder ?? .nonlinear }
    public var extraModalities: [ModalityConfiguration] { modalities ?? [] }
    public var crossModal: CrossModalReconstruction { crossModalReconstruction ?? .all }
}
