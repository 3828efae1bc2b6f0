import ArgumentParser
import CellWeaveCore
import CellWeaveIO
import CellWeaveModel
import CellWeaveReport
import Foundation

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the negative-binomial conditional VAE (scVI's model) on raw counts, the batch as a covariate, into a model directory.")

    @Argument(help: "Counts: an .h5ad or .h5mu (or any input cellweave reads) with the covariates in obs; every modality it holds is modelled (--modalities to choose).")
    var input: String
    @Option(name: .shortAndLong, help: "The model directory to write (model.h5, config.json, history.json, training.html, checkpoint.h5).")
    var output: String
    @OptionGroup var inputOptions: InputOptions
    @OptionGroup var countsCheck: CountsCheck

    @Option(help: "obs column of the batch (sample) covariate.") var batchKey: String
    @Option(parsing: .upToNextOption, help: "Further categorical obs columns injected as covariates (e.g. technology).")
    var covariateKeys: [String] = []
    @Flag(help: "Train on the genes marked in var highly_variable only.") var hvgOnly = false

    @Option(help: "Epochs (default: min(round(20000 / cells * 100), 100) for RNA, scvi-tools' min(round(20000 / cells * 400), 400) with protein).")
    var maxEpochs: Int?
    @Option(help: "Cells per minibatch.") var batchSize = 128
    @Option(help: "Latent dimensions.") var nLatent = 10
    @Option(help: "Units per hidden layer.") var nHidden = 128
    @Option(help: "Hidden layers in the encoder and in the decoder (scVI: 1; two integrate better here, BENCHMARKS.md).") var nLayers = 2
    @Option(help: "RNA decoder: nonlinear (scVI's), or linear (LDVAE: gene logits a batch-normalised linear map of z and the covariates, whose weights are gene programs; --n-layers is then the encoder's).")
    var decoder: DecoderKind = .nonlinear
    @Option(help: "Dropout rate after the encoder's hidden layers.") var dropoutRate = 0.1
    @Option(help: "Count likelihood: nb, zinb or poisson.") var geneLikelihood: CountLikelihood = .nb
    @Option(help: "Inverse dispersion per gene, or per gene and batch (gene-batch).") var dispersion: DispersionKind = .gene
    @Option(help: "Normalisation in hidden layers: batch, layer or none.") var normalization: Normalization = .batch
    @Flag(help: "Give the covariates to the encoder as well as the decoder.") var encodeCovariates = false
    @Flag(inversion: .prefixedNo, help: "With several modalities, each modality's own ELBO term reconstructs every modality the cell has (not its own alone), so a cell lacking one is placed where its type's measured cells are.")
    var crossModal = true
    @Flag(inversion: .prefixedNo, help: "Inject the covariates into the decoder's output layer too (a per-gene batch offset; scVI: no).")
    var covariatesInOutput = true
    @Option(help: "Adam learning rate (scVI: 1e-3, totalVI: 4e-3).") var lr = 2e-3
    @Option(help: "Adam weight decay (L2).") var weightDecay = 1e-6
    @Option(help: "Epochs over which the KL weight rises from 0 to 1 (default: a quarter of --max-epochs; on --resume, the checkpoint's).")
    var nEpochsKlWarmup: Int?
    @Option(help: "Fraction of cells trained on; the rest give the validation ELBO.") var trainSize = 0.9
    @Flag(inversion: .prefixedNo, help: "Stop when the validation ELBO has not improved for --early-stopping-patience epochs.")
    var earlyStopping = false
    @Option(help: "Epochs without improvement before early stopping.") var earlyStoppingPatience = 45
    @Option(help: "Clip the global gradient norm to this value.") var gradientClip: Double?
    @Option(help: "Random seed: the same seed, input and thread count give bit-identical models.") var seed: UInt64 = 0
    @Option(help: "Threads (BLAS and the likelihood pass); part of what makes a run reproducible.")
    var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Write checkpoint.h5 every this many epochs (and at the end).") var checkpointEvery = 10
    @Flag(help: "Continue from the directory's checkpoint.h5 up to --max-epochs.") var resume = false

    func validate() throws {
        guard batchSize >= 3 else { throw ValidationError("--batch-size must be at least 3 (batch norm needs several cells).") }
        guard nLatent >= 1, nHidden >= 1, nLayers >= 1 else { throw ValidationError("--n-latent, --n-hidden and --n-layers must be positive.") }
        guard trainSize > 0, trainSize <= 1 else { throw ValidationError("--train-size must be in (0, 1].") }
        guard dropoutRate >= 0, dropoutRate < 1 else { throw ValidationError("--dropout-rate must be in [0, 1).") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1.") }
        if let maxEpochs, maxEpochs < 1 { throw ValidationError("--max-epochs must be at least 1.") }
        if let nEpochsKlWarmup, nEpochsKlWarmup < 0 { throw ValidationError("--n-epochs-kl-warmup must be at least 0.") }
        if decoder == .linear && normalization == .layer {
            throw ValidationError("--decoder linear normalises its output with batch norm (as LDVAE) or not at all: --normalization batch or none.")
        }
    }

    func run() throws {
        let loaded = try Log.timed("reading \(input)") { try LoadedInput.read(input, options: inputOptions) }
        var adata = loaded.adata
        if hvgOnly {
            guard let column = adata.varTable["highly_variable"], case let .booleans(flags) = column else {
                throw ValidationError("\(input): --hvg-only needs a boolean var column highly_variable (run cellweave hvg first)")
            }
            let genes = flags.indices.filter { flags[$0] }
            adata = try adata.selecting(cells: Array(0..<adata.nObs), genes: genes)
            Log.info("training on \(genes.count) highly variable genes")
        }
        let counts = adata.x.toCSR()
        try countsCheck.check(counts, input: input)
        let keys = [batchKey] + covariateKeys
        let coded = try keys.map { try CovariateColumns.labels(adata, key: $0, file: input) }
        var data = TrainingData(counts: counts, codes: coded.map { $0.codes.map(Int32.init) }, categoryCounts: coded.map(\.labels.count))
        let modalities = loaded.whole.map(ModalityCounts.modelled) ?? []
        let kind = try CountMatrixLoader.detect(input)
        for (m, c) in modalities {
            let path = kind == .h5mu ? "/mod/\(m.name)/X" : kind == .h5ad ? "/obsm/\(CountMatrixLoader.proteinExpressionKey)" : nil
            try countsCheck.check(c.counts, input: input, location: path, matrix: "the \(m.name) modality")
            Log.info("\(m.name): \(m.data.nVars) \(m.kind.rawValue) features in \(m.cells.count) of \(adata.nObs) cells")
        }
        data.modalities = modalities.map(\.counts)

        var config = ModelConfiguration(genes: counts.cols, categoryCounts: data.categoryCounts)
        config.latent = nLatent
        config.hidden = nHidden
        config.layers = nLayers
        if decoder == .linear { config.decoder = .linear }  // nonlinear stays nil, as in every earlier model
        config.likelihood = geneLikelihood
        config.dispersion = dispersion
        config.normalization = normalization
        config.dropoutRate = dropoutRate
        config.encodeCovariates = encodeCovariates
        config.injectCovariatesIntoOutput = covariatesInOutput
        if !modalities.isEmpty {
            config.modalities = modalities.map { ModalityConfiguration(kind: $0.modality.kind, features: $0.modality.data.nVars) }
            config.crossModalReconstruction = crossModal
        }
        var options = TrainingOptions(maxEpochs: maxEpochs ?? TrainingOptions.defaultMaxEpochs(cells: counts.rows, modalities: 1 + modalities.count))
        options.batchSize = batchSize
        options.learningRate = lr
        options.weightDecay = weightDecay
        options.trainFraction = trainSize
        options.earlyStopping = earlyStopping
        options.earlyStoppingPatience = earlyStoppingPatience
        options.gradientClipNorm = gradientClip
        options.seed = seed
        options.threads = threads
        BLAS.threadCount = 1  // the model splits its own products into --threads pieces

        let directory = ModelDirectory(path: output)
        let checkpoint = resume ? try directory.loadCheckpoint() : nil
        // The warm-up belongs to the run: a resumed run keeps its own unless told otherwise.
        options.klWarmupEpochs = nEpochsKlWarmup ?? checkpoint?.state.options.klWarmupEpochs ?? options.klWarmupEpochs
        let trainer = try Trainer(data: data, configuration: config, options: options)
        if let checkpoint {
            try trainer.restore(checkpoint)
            Log.info("resuming after epoch \(trainer.completedEpochs) of \(options.maxEpochs)")
        }
        try directory.create()
        Log.info("training on \(trainer.trainCells.count) cells (\(trainer.validationCells.count) held out), \(counts.cols) genes, "
                 + "\(data.categoryCounts.map(String.init).joined(separator: "+")) covariate categories, \(options.maxEpochs) epochs, \(threads) threads")
        let progress = EpochProgress(total: options.maxEpochs)
        try trainer.train { record in
            progress.show(record)
            if record.epoch % max(checkpointEvery, 1) == 0 { try directory.saveCheckpoint(trainer.checkpoint()) }
        }
        if trainer.history.stoppedEarly { Log.info("early stopping after epoch \(trainer.completedEpochs)") }
        try directory.saveCheckpoint(trainer.checkpoint())

        let history = trainer.history
        try AtomicFile.write(try ModelDirectory.encoder.encode(history), to: directory.history)
        let settings: [(String, String)] = [
            ("input", input), ("cells (train / held out)", "\(trainer.trainCells.count) / \(trainer.validationCells.count)"),
            ("genes", "\(counts.cols)"), ("covariates", keys.joined(separator: ", ")),
            ("architecture", "\(nLayers) x \(nHidden) hidden, \(nLatent) latent, \(decoder.rawValue) decoder, \(normalization.rawValue) norm, dropout \(dropoutRate)"),
            ("likelihood", "\(geneLikelihood.rawValue), dispersion \(dispersion.rawValue)"),
            ("optimiser", "Adam lr \(lr), weight decay \(weightDecay), batch \(batchSize), KL warm-up \(options.klWarmupEpochs) epochs"),
            ("seed / threads", "\(seed) / \(threads)"),
        ]
        let report = TrainingReport(title: "CellWeave training: \((output as NSString).lastPathComponent)", settings: settings,
                                    epochs: history.epochs.map { Double($0.epoch) }, loss: history.epochs.map(\.loss),
                                    reconstruction: history.epochs.map(\.reconstruction), kl: history.epochs.map(\.kl),
                                    validationELBO: history.epochs.map { $0.validationELBO ?? .nan },
                                    seconds: history.epochs.map(\.seconds), stoppedEarly: history.stoppedEarly)
        try AtomicFile.write(Data(report.html().utf8), to: directory.report)
        let manifest = ModelManifest(
            version: CellWeaveCommand.version, configuration: config, options: options,
            geneIDs: CovariateColumns.geneIDs(adata.varTable), geneNames: adata.varTable.index,
            covariates: zip(keys, coded).map { ModelManifest.Covariate(key: $0, categories: $1.labels) },
            countsSource: ModelInputs.sourceName(layer: inputOptions.layer, raw: inputOptions.raw) ?? "X",
            trainingFile: URL(fileURLWithPath: input).standardizedFileURL.path, trainingCells: trainer.trainCells.count,
            validationCells: trainer.validationCells.map { adata.obs.index[$0] },
            modalities: modalities.isEmpty ? nil : modalities.map { .init(kind: $0.modality.kind, name: $0.modality.name, features: $0.modality.data.varTable.index) })
        try directory.save(manifest, tensors: trainer.model.tensors)
        Log.info("model written to \(output)")
    }
}

extension CountLikelihood: ExpressibleByArgument {}
extension DispersionKind: ExpressibleByArgument {}
extension Normalization: ExpressibleByArgument {}
extension DecoderKind: ExpressibleByArgument {}
