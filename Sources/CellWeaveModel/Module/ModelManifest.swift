import CellWeaveCore

/// What a trained model directory says about itself (config.json, and inside model.h5): the
/// architecture, how it was trained, its genes (matched by id when applied to new data), its
/// covariate categories, and which cells were held out (reference cells for calibration).
public struct ModelManifest: Codable, Sendable {
    public struct Covariate: Codable, Sendable, Equatable {
        public var key: String
        public var categories: [String]
        public init(key: String, categories: [String]) { self.key = key; self.categories = categories }
    }

    /// A modality beyond RNA the model was trained on: its kind, its name in the training file and
    /// its features (protein names), in the model's order.
    public struct Modality: Codable, Sendable, Equatable {
        public var kind: ModalityKind
        public var name: String
        public var features: [String]
        public init(kind: ModalityKind, name: String, features: [String]) { self.kind = kind; self.name = name; self.features = features }
    }

    public var version: String
    public var configuration: ModelConfiguration
    public var options: TrainingOptions
    public var geneIDs: [String]
    public var geneNames: [String]
    public var covariates: [Covariate]
    /// Which matrix of the training file held the counts: X, layers/NAME or raw/X.
    public var countsSource: String
    public var trainingFile: String
    public var trainingCells: Int
    public var validationCells: [String]
    /// Modalities beyond RNA (nil for models of RNA alone).
    public var modalities: [Modality]?
    /// The obs columns (by modality kind) that said which training cells lacked a modality: files
    /// the model is applied to are read with the same masks where they have those columns.
    public var modalityMasks: [String: String]?

    public init(version: String, configuration: ModelConfiguration, options: TrainingOptions, geneIDs: [String], geneNames: [String],
                covariates: [Covariate], countsSource: String, trainingFile: String, trainingCells: Int, validationCells: [String],
                modalities: [Modality]? = nil, modalityMasks: [String: String]? = nil) {
        self.version = version
        self.configuration = configuration
        self.options = options
        self.geneIDs = geneIDs
        self.geneNames = geneNames
        self.covariates = covariates
        self.countsSource = countsSource
        self.trainingFile = trainingFile
        self.trainingCells = trainingCells
        self.validationCells = validationCells
        self.modalities = modalities
        self.modalityMasks = modalityMasks
    }

    enum CodingKeys: String, CodingKey {
        case version, configuration, options
        case geneIDs = "gene_ids"
        case geneNames = "gene_names"
        case covariates
        case countsSource = "counts_source"
        case trainingFile = "training_file"
        case trainingCells = "training_cells"
        case validationCells = "validation_cells"
        case modalities
        case modalityMasks = "modality_masks"
    }
}
