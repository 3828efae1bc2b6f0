import ArgumentParser
import CellWeaveCore
import CellWeaveIO
import CellWeaveModel
import CellWeaveReport
import Foundation

public struct TrainCommand: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
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
    @Option(help: "With several modalities, whose own ELBO terms also reconstruct the cell's other modalities: all, rna (RNA's, so that a cell lacking protein is placed where its type's measured cells are; protein's reconstructs protein) or none.")
    var crossModal = CrossModalReconstruction.rna
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

    public func validate() throws {
        guard batchSize >= 3 else { throw ValidationError("--batch-size must be at least 3 (batch norm needs several cells).") }
        guard nLatent >= 1, nHidden >= 1, nLayers >= 1 else { throw ValidationError("--n-latent, --n-hidden and --n-layers must be positive.") }
        guard trainSize > 0, trainSize <= 1 else { throw ValidationError("--train-size must be in (0, 1].") }
        guard dropoutRate >= 0, dropoutRate < 1 else { throw ValidationError("--dropout-rate must be in [0, 1).") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1.") }
        guard lr.isFinite, lr > 0 else { throw ValidationError("--lr must be a positive number.") }
        if let maxEpochs, maxEpochs < 1 { throw ValidationError("--max-epochs must be at least 1.") }
        if let nEpochsKlWarmup, nEpochsKlWarmup < 0 { throw ValidationError("--n-epochs-kl-warmup must be at least 0.") }
        try StreamingBudget.validate(maxMemory)
        // A key twice would be one covariate given to the model twice, under two embeddings.
        if let repeated = keys.enumerated().first(where: { keys[..<$0.offset].contains($0.element) })?.element {
            throw ValidationError("--covariate-keys: '\(repeated)' is \(repeated == batchKey ? "the batch key" : "named twice"); each obs column is one covariate.")
        }
        if decoder == .linear && normalization == .layer {
            throw ValidationError("--decoder linear normalises its output with batch norm (as LDVAE) or not at all: --normalization batch or none.")
        }
    }

    @Option(help: "Stream the counts from the .h5ad on disk in this much memory (e.g. 1G; RNA alone): blocks of cells in a shuffled order, a window of them in memory at a time. Without it, train streams when the counts would not fit in the memory free, and says so.")
    var maxMemory: String?

    /// What training needs from the input, in memory or streamed: the cells, the covariates and
    /// the tables the model records.
    private struct Prepared {
        var cells: any TrainingCells
        var genes: Int
        /// Per covariate key, its categories.
        var labels: [[String]]
        var varTable: DataFrame
        /// The names of cells (rows of obs).
        var cellNames: ([Int]) throws -> [String]
        var modalities: [(modality: Modality, counts: ModalityCounts)] = []
        var streaming: StreamLayout? = nil
    }

    public func run() throws {
        // Training holds its counts and little else (1.07x the CSR at a million cells, BENCHMARKS.md).
        let budget = try StreamingBudget.choose(maxMemory, file: input, matrix: countsSource, peak: 1.2)
        try train(try budget.map { try prepareStreamed(budget: $0) } ?? prepareInMemory())
    }

    /// Data-parallel training: this process (one of `processGroup`) reads its share of the cells
    /// and trains with the others; the first process alone writes the model directory and logs.
    /// Streamed (--max-memory, or chosen as for one process, the processes of a machine together
    /// holding the counts), each process reads its blocks of each window.
    public func run(processGroup: any ProcessGroup) throws {
        Log.enabled = processGroup.rank == 0
        let budget = try StreamingBudget.choose(maxMemory, file: input, matrix: countsSource, peak: 1.2)
        let prepared = try budget.map { try prepareStreamed(budget: $0, processGroup: processGroup) } ?? prepareShare(processGroup)
        try train(prepared, processGroup: processGroup)
    }

    private var countsSource: String { ModelInputs.sourceName(layer: inputOptions.layer, raw: inputOptions.raw) ?? "X" }
    private var keys: [String] { [batchKey] + covariateKeys }
    /// The masks asked for, by kind, for the manifest (nil: none).
    private var modelMasks: [String: String]? {
        get throws {
            let masks = try inputOptions.mask.masks()
            return masks.isEmpty ? nil : Dictionary(masks.map { ($0.kind.rawValue, $0.column) }) { $1 }
        }
    }

    private func prepareInMemory() throws -> Prepared {
        let loaded = try Log.timed("reading \(input)") { try LoadedInput.read(input, options: inputOptions) }
        var adata = loaded.adata
        if hvgOnly {
            let genes = try highlyVariable(adata.varTable)
            adata = try adata.selecting(cells: Array(0..<adata.nObs), genes: genes)
            Log.info("training on \(genes.count) highly variable genes")
        }
        let counts = adata.x.toCSR()
        try countsCheck.check(counts, input: input)
        let coded = try keys.map { try CovariateColumns.labels(adata, key: $0, file: input) }
        var data = TrainingData(counts: counts, codes: coded.map { $0.codes.map(Int32.init) }, categoryCounts: coded.map(\.labels.count))
        let modalities = loaded.whole.map(ModalityCounts.modelled) ?? []
        try countsCheck.check(modalities: modalities.map { ($0.modality, $0.counts.counts) }, input: input)
        for (m, _) in modalities {
            Log.info("\(m.name): \(m.data.nVars) \(m.kind.rawValue) features in \(m.cells.count) of \(adata.nObs) cells")
        }
        data.modalities = modalities.map(\.counts)
        let names = adata.obs.index
        return Prepared(cells: data, genes: counts.cols, labels: coded.map(\.labels), varTable: adata.varTable,
                        cellNames: { $0.map { names[$0] } }, modalities: modalities)
    }

    /// The covariates' obs columns and the var table in memory, the counts read block by block as
    /// training visits them (each block checked as the in-memory counts are).
    private func prepareStreamed(budget: UInt64, processGroup group: (any ProcessGroup)? = nil) throws -> Prepared {
        let (counts, obs, varTable, columns, codes, labels) = try openRows(training: "streamed training (--max-memory)")
        let stream = counts.stream, matrix = "/" + countsSource
        // 8 bytes a non-zero and one a cell, in the model's genes.
        let bytesPerCell = 8 * (1 + stream.nnz / max(1, stream.rows) * (columns?.count ?? stream.cols) / max(1, stream.cols))
        let layout = StreamLayout.fitting(budget: budget, cells: stream.rows, bytesPerCell: bytesPerCell, batchSize: batchSize)
        let cells = StreamedTrainingCells(codes: codes, categoryCounts: labels.map(\.count), genes: columns?.count ?? stream.cols, layout: layout,
                                          process: group.map { ($0.rank, $0.size) } ?? (0, 1), entries: stream.entries) { range in
            try counts.rows(range, columns: columns)
        }
        Log.info("streaming \(stream.rows) cells from \(matrix) within \(MemoryLimit.describe(budget)): blocks of \(layout.blockRows) cells, "
                 + "\(layout.windowBlocks) blocks a window\(group.map { ", each of \($0.size) processes reading its share of them" } ?? "")"
                 + "\(columns.map { ", \($0.count) highly variable genes" } ?? "")")
        return Prepared(cells: cells, genes: columns?.count ?? stream.cols, labels: labels, varTable: varTable,
                        cellNames: obs.cellNames, streaming: layout)
    }

    /// One process's share of the cells, read from the .h5ad's rows, with the covariates of every cell and the var table.
    private func prepareShare(_ group: any ProcessGroup) throws -> Prepared {
        let (counts, obs, varTable, columns, codes, labels) = try openRows(training: "data-parallel training")
        let cells = counts.stream.rows, held = group.heldCells(of: cells)
        let share = try Log.timed("reading cells \(held.lowerBound)..<\(held.upperBound) of \(cells) on each of \(group.size) processes") {
            try counts.rows(held, columns: columns)
        }
        let data = TrainingData(counts: share, codes: codes.map { Array($0[held]) }, categoryCounts: labels.map(\.count))
        let shares = (0..<group.size).map { group.heldCells(of: cells, rank: $0) }
        return Prepared(cells: CellShare(data: data, rank: group.rank, shares: shares), genes: share.cols, labels: labels,
                        varTable: varTable, cellNames: obs.cellNames)
    }

    /// The .h5ad's counts as rows to read, the obs columns of the covariates (not the whole obs: at
    /// millions of cells its index and other columns would be most of the memory), the var of the
    /// model's genes, those genes' columns and the covariates' codes and categories, for training
    /// that reads rows (RNA alone).
    private func openRows(training: String) throws
        -> (counts: CheckedRowStream, obs: ObsColumns, varTable: DataFrame, columns: [Int]?, codes: [[Int32]], labels: [[String]]) {
        let counts = try CheckedRowStream(file: input, matrix: "/" + countsSource, check: countsCheck, streaming: training)
        guard inputOptions.modalities == nil, inputOptions.mask.modalityMask.isEmpty else {
            throw ValidationError("\(training) models RNA alone: not with --modalities or --modality-mask")
        }
        if try HDF5File.open(input).contains("obsm/\(CountMatrixLoader.proteinExpressionKey)") {
            throw ValidationError("\(input): \(training) models RNA alone, and this file has protein counts in obsm "
                                  + "(\(CountMatrixLoader.proteinExpressionKey)): train them in memory with cellweave train")
        }
        let (obs, fileVar) = try Log.timed("reading the obs columns \(keys.joined(separator: ", ")) and the var of \(input)") {
            (try ObsColumns(path: input, reading: keys), try H5adReader.readVarTable(path: input, counts: countsSource))
        }
        let columns = hvgOnly ? try highlyVariable(fileVar) : nil
        var codes: [[Int32]] = [], labels: [[String]] = []
        for key in keys {
            let coded = try CovariateColumns.labels(obs[key], key: key, columns: obs.columnNames, file: input)
            codes.append(coded.codes.map(Int32.init))
            labels.append(coded.labels)
        }
        try counts.requireShape(cells: obs.cells, genes: fileVar.rowCount)
        return (counts, obs, columns.map { fileVar.selectingRows($0) } ?? fileVar, columns, codes, labels)
    }

    private func highlyVariable(_ varTable: DataFrame) throws -> [Int] {
        guard let column = varTable["highly_variable"], case let .booleans(flags) = column else {
            throw ValidationError("\(input): --hvg-only needs a boolean var column highly_variable (run cellweave hvg first)")
        }
        return flags.indices.filter { flags[$0] }
    }

    private func train(_ prepared: Prepared, processGroup: (any ProcessGroup)? = nil) throws {
        // A model finds its genes in a file by id: two genes of one id could never be told apart.
        var seen: [String: Int] = [:]
        for (j, id) in CovariateColumns.geneIDs(prepared.varTable).enumerated() {
            if let first = seen.updateValue(j, forKey: id) {
                throw ValidationError("\(input): var rows \(first) and \(j) have the same gene id '\(id)'; a model matches genes by id "
                                      + "(var gene_ids, else the var names): use --var-names-make-unique, or keep one of them")
            }
        }
        let modalities = prepared.modalities
        let categoryCounts = prepared.labels.map(\.count)
        var config = ModelConfiguration(genes: prepared.genes, categoryCounts: categoryCounts)
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
        let cells = prepared.cells.cells
        var options = TrainingOptions(maxEpochs: maxEpochs ?? TrainingOptions.defaultMaxEpochs(cells: cells, modalities: 1 + modalities.count))
        options.batchSize = batchSize
        options.learningRate = lr
        options.weightDecay = weightDecay
        options.trainFraction = trainSize
        options.earlyStopping = earlyStopping
        options.earlyStoppingPatience = earlyStoppingPatience
        options.gradientClipNorm = gradientClip
        options.seed = seed
        options.threads = threads
        options.streaming = prepared.streaming
        BLAS.threadCount = 1  // the model splits its own products into --threads pieces

        let directory = ModelDirectory(path: output)
        let checkpoint = resume ? try directory.loadCheckpoint() : nil
        // The warm-up belongs to the run: a resumed run keeps its own unless told otherwise.
        options.klWarmupEpochs = nEpochsKlWarmup ?? checkpoint?.state.options.klWarmupEpochs ?? options.klWarmupEpochs
        let trainer = try Trainer(cells: prepared.cells, configuration: config, options: options, processGroup: processGroup)
        if let checkpoint {
            try trainer.restore(checkpoint)
            Log.info("resuming after epoch \(trainer.completedEpochs) of \(options.maxEpochs)")
        }
        // In data-parallel training every process holds the same model; the first writes it.
        let writes = (processGroup?.rank ?? 0) == 0
        if writes { try directory.create() }
        Log.info("training on \(trainer.trainCells.count) cells (\(trainer.validationCells.count) held out), \(prepared.genes) genes, "
                 + "\(categoryCounts.map(String.init).joined(separator: "+")) covariate categories, \(options.maxEpochs) epochs, \(threads) threads")
        let progress = EpochProgress(total: options.maxEpochs)
        try trainer.train { record in
            progress.show(record)
            if writes && record.epoch % max(checkpointEvery, 1) == 0 { try directory.saveCheckpoint(trainer.checkpoint()) }
        }
        if trainer.history.stoppedEarly { Log.info("early stopping after epoch \(trainer.completedEpochs)") }
        guard writes else { return }
        try directory.saveCheckpoint(trainer.checkpoint())

        let history = trainer.history
        try AtomicFile.write(try ModelDirectory.encoder.encode(history), to: directory.history)
        let settings: [(String, String)] = [
            ("input", input), ("cells (train / held out)", "\(trainer.trainCells.count) / \(trainer.validationCells.count)"),
            ("genes", "\(prepared.genes)"), ("covariates", keys.joined(separator: ", ")),
            ("architecture", "\(nLayers) x \(nHidden) hidden, \(nLatent) latent, \(decoder.rawValue) decoder, \(normalization.rawValue) norm, dropout \(dropoutRate)"),
            ("likelihood", "\(geneLikelihood.rawValue), dispersion \(dispersion.rawValue)"),
            ("optimiser", "Adam lr \(lr), weight decay \(weightDecay), batch \(batchSize), KL warm-up \(options.klWarmupEpochs) epochs"),
            ("seed / threads", "\(seed) / \(threads)" + (processGroup.map { " on each of \($0.size) processes" } ?? "")),
        ] + (prepared.streaming.map { [("streamed", "blocks of \($0.blockRows) cells, \($0.windowBlocks) blocks a window")] } ?? [])
        let report = TrainingReport(title: "CellWeave training: \((output as NSString).lastPathComponent)", settings: settings,
                                    epochs: history.epochs.map { Double($0.epoch) }, loss: history.epochs.map(\.loss),
                                    reconstruction: history.epochs.map(\.reconstruction), kl: history.epochs.map(\.kl),
                                    validationELBO: history.epochs.map { $0.validationELBO ?? .nan },
                                    seconds: history.epochs.map(\.seconds), stoppedEarly: history.stoppedEarly)
        try AtomicFile.write(Data(report.html().utf8), to: directory.report)
        let manifest = ModelManifest(
            version: CellWeaveCommand.version, configuration: config, options: options,
            geneIDs: CovariateColumns.geneIDs(prepared.varTable), geneNames: prepared.varTable.index,
            covariates: zip(keys, prepared.labels).map { ModelManifest.Covariate(key: $0, categories: $1) },
            countsSource: ModelInputs.sourceName(layer: inputOptions.layer, raw: inputOptions.raw) ?? "X",
            trainingFile: URL(fileURLWithPath: input).standardizedFileURL.path, trainingCells: trainer.trainCells.count,
            validationCells: try prepared.cellNames(trainer.validationCells),
            modalities: modalities.isEmpty ? nil : modalities.map { .init(kind: $0.modality.kind, name: $0.modality.name, features: $0.modality.data.varTable.index) },
            modalityMasks: try modelMasks)
        try directory.save(manifest, tensors: trainer.model.tensors)
        Log.info("model written to \(output)")
    }
}

extension CountLikelihood: ExpressibleByArgument {}
extension DispersionKind: ExpressibleByArgument {}
extension Normalization: ExpressibleByArgument {}
extension DecoderKind: ExpressibleByArgument {}
extension CrossModalReconstruction: ExpressibleByArgument {}
