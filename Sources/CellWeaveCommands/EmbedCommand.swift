import ArgumentParser
import CellWeaveCore
import CellWeaveIO
import CellWeaveModel
import Foundation

public struct EmbedCommand: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Posterior-mean latent embedding of a trained model into obsm X_cellweave; optionally batch-corrected expression and imputed protein.",
        discussion: """
        Batches the model has not seen are mapped first, as scArches does: their covariate weights are learned on their cells with \
        every other weight frozen. A model of several modalities writes the joint embedding of every cell (the product of the \
        experts of the modalities it has) into X_cellweave, and each modality's alone into X_cellweave_rna, X_cellweave_protein \
        (NaN rows for cells without it). A model with the linear decoder (train --decoder linear) also writes its gene \
        loadings into varm cellweave_loadings (genes x latent; NaN rows for genes not in the model) and each dimension's top \
        positive and negative genes into uns cellweave_loadings. Its embedding and loadings are in varimax axes (the latent \
        space rotated so that each dimension's loadings are as sparse as possible: one gene program per dimension; distances \
        between cells are unchanged) unless --no-varimax.
        """)

    @Argument(help: "A model directory written by cellweave train.") var model: String
    @Argument(help: "The .h5ad (or other input) to embed: the model's genes (matched by id) and covariate columns.") var input: String
    @Option(name: .shortAndLong, help: "The .h5ad to write (atomically).") var output: String
    @OptionGroup var counts: ModelCountsOptions
    @Flag(help: "Write decoded normalised expression with every cell set to --transform-batch as layer cellweave_corrected.")
    var correctedExpression = false
    @Option(help: "Batch (category of the model's batch key) to decode every cell in, 'all' to average over batches, or 'own' for each cell's own batch.")
    var transformBatch = "all"
    @Option(help: "Counts per cell of the corrected expression (scvi-tools' library_size).") var librarySize = 10_000.0
    @Option(help: "protein: add obsm protein_imputed (denoised protein, totalVI's normalised expression, for every cell) and protein_foreground_probability, decoded in --transform-batch.")
    var impute: ImputedModality?
    @Option(help: "Draws of z from each cell's posterior that --corrected-expression and --impute average their decoded values over (their posterior expectation; scvi-tools' n_samples); 0 decodes at the posterior means.")
    var samples = 25
    @Option(help: "Seed of the posterior draws.") var seed: UInt64 = 0
    @Option(help: "Also write the embedding as .npy.") var npy: String?
    @Option(help: "Also write the embedding as .tsv (cells x dimensions, with barcodes).") var tsv: String?
    @Option(help: "Cells per inference chunk.") var chunkSize = 1024
    @Option(help: "Threads.") var threads = ProcessInfo.processInfo.activeProcessorCount
    @OptionGroup var mapping: QueryMappingOptions
    @OptionGroup var compression: CompressionOption
    @OptionGroup var link: LinkOption
    @Flag(inversion: .prefixedNo, help: "Write a linear model's embedding and loadings in varimax axes (see above; scvi-tools: no).")
    var varimax = true
    @Option(help: "Stream the counts from the .h5ad in blocks that fit this much memory (e.g. 1G) instead of reading them whole; for batches the model knows, models of RNA alone, without --corrected-expression or --impute. The embedding is the same as without it. Without it, embed streams by itself (where it can) when the counts would not fit in the memory free.")
    var maxMemory: String?

    public func validate() throws {
        guard chunkSize >= 1, threads >= 1, librarySize > 0 else { throw ValidationError("--chunk-size, --threads and --library-size must be positive.") }
        guard samples >= 0 else { throw ValidationError("--samples must be 0 or more.") }
        try StreamingBudget.validate(maxMemory)
        for path in [output, npy, tsv].compactMap({ $0 }) { try AtomicFile.requireDirectory(of: path) }
        if maxMemory != nil {
            guard !correctedExpression, impute == nil else { throw ValidationError("--max-memory streams the embedding alone: not with --corrected-expression or --impute.") }
        }
    }

    public func run() throws {
        BLAS.threadCount = 1  // the model splits its own products into --threads pieces
        let (manifest, tensors) = try ModelDirectory(path: model).load()
        // Reading whole holds the counts about twice (as read, and in the model's genes).
        if let budget = try StreamingBudget.choose(maxMemory, file: input, matrix: counts.source(default: manifest.countsSource), peak: 2,
                                                   canStream: !correctedExpression && impute == nil && manifest.modalities == nil) {
            return try runStreamed(manifest, tensors: tensors, budget: budget)
        }
        let (loaded, inputs) = try counts.read(input, manifest: manifest)
        var adata = loaded.adata
        let data = inputs.trainingData()
        let vae = try mapping.model(manifest, tensors: tensors, categories: inputs.categories, data: data, capacity: chunkSize, threads: threads)
        let inference = LatentInference(model: vae, data: data)
        let decodes = correctedExpression || impute != nil
        var posterior = Log.timed("embedding \(data.cells) cells") { decodes ? inference.posterior() : LatentPosterior(means: inference.posteriorMeans()) }
        (posterior.draws, posterior.seed) = (samples, seed)
        let embedding = posterior.mean
        // A linear model's embeddings are written in the axes its loadings are read in; the
        // model's own z is what decodes.
        let loadings = try GeneLoadings(vae, geneNames: manifest.geneNames, varimax: varimax)
        let axes = { (latent: DenseMatrix) in try loadings?.inAxes(latent) ?? latent }
        let written = try axes(embedding)
        var products: [(String, DenseMatrix)] = [("X_cellweave", written)]
        if let modalities = manifest.modalities {
            products.append(("X_cellweave_rna", try axes(inference.posteriorMeans(modality: 0))))
            for (k, m) in modalities.enumerated() { products.append(("X_cellweave_\(m.kind.rawValue)", try axes(inference.posteriorMeans(modality: k + 1)))) }
        }
        let batches = inputs.categories[0]
        let targets: [Int32]?
        if transformBatch == "all" {
            targets = batches.indices.map(Int32.init)
        } else if transformBatch == "own" {
            targets = nil
        } else {
            guard let b = batches.firstIndex(of: transformBatch) else {
                throw ModelError.unknownCategory(key: manifest.covariates[0].key, category: transformBatch, known: batches)
            }
            targets = [Int32(b)]
        }
        if impute == .protein {
            guard let protein = Log.timed("imputing protein", { inference.imputedProtein(posterior, batches: targets) }) else {
                throw ValidationError("\(model): --impute protein needs a model trained with protein")
            }
            products += [("protein_imputed", protein.expression), ("protein_foreground_probability", protein.foregroundProbability)]
        }
        for (name, matrix) in products {
            adata.obsm.removeAll { $0.name == name }
            adata.obsm.append((name, .dense(matrix)))
        }
        if let loadings {
            let columns = try ModelInputs.modelColumns(manifest, in: adata.varTable, file: input)
            adata.varm.removeAll { $0.name == GeneLoadings.key }
            adata.varm.append((GeneLoadings.key, .dense(loadings.aligned(to: columns, fileGenes: adata.nVars))))
            adata.uns.removeAll { $0.name == GeneLoadings.key }
            adata.uns.append((GeneLoadings.key, loadings.summary(top: 10)))
        }

        if correctedExpression {
            let expression = Log.timed("corrected expression") {
                inference.correctedExpression(posterior, batches: targets, librarySize: Float(librarySize))
            }
            adata = try placeCorrectedExpression(expression, manifest: manifest, in: adata)
        }
        Provenance.record(&adata, parameters: [("model", .string(model))])
        try Log.timed("writing \(output)") { try LoadedInput(adata: adata, whole: loaded.whole).write(to: output, compression: compression.hdf5, linkUnchanged: link.linkUnchanged) }
        if let npy { try NPYWriter.write(written, to: npy) }
        if let tsv { try TSVWriter.write(TSVWriter.encode(written, rowNames: adata.obs.index, columnPrefix: "X_cellweave_"), to: tsv) }
    }

    /// The embedding of counts streamed from the .h5ad block by block: the obs and var tables and
    /// one block's counts in memory, each block's embedding written as it comes (into the output,
    /// the .npy and the .tsv); the output links or copies every element of the input as stored and
    /// adds the embedding (and a linear model's loadings).
    private func runStreamed(_ manifest: ModelManifest, tensors: [NamedTensor], budget: UInt64) throws {
        let streamed = try StreamedEmbedding(self, manifest: manifest, tensors: tensors, budget: budget, streaming: "--max-memory")
        let inference = streamed.inference, source = streamed.source, cells = source.stream.rows, latent = manifest.configuration.latent
        Log.info("streaming \(cells) cells from \(source.matrix) in \(inference.blocks(rows: streamed.blockRows).count) blocks")
        try Log.timed("embedding \(cells) cells into \(output)") {
            try AtomicFile.write(to: [npy, tsv].compactMap { $0 }) { handles in
                var files = handles.makeIterator()
                let npyFile = npy.flatMap { _ in files.next() }, tsvFile = tsv.flatMap { _ in files.next() }
                try npyFile?.write(contentsOf: NPYWriter.header(rows: cells, cols: latent))
                try tsvFile?.write(contentsOf: Data(TSVWriter.header(columns: latent, prefix: "X_cellweave_").utf8))
                let embedding = ObsmRowBlocks(name: "X_cellweave", rows: cells, columns: latent) { write in
                    try streamed.forEachBlock { block, written in
                        try write(block, written.values)
                        try npyFile?.write(contentsOf: written.values.withUnsafeBytes { Data($0) })
                        try tsvFile?.write(contentsOf: Data(TSVWriter.rows(written, names: source.obs.index[block]).utf8))
                    }
                }
                try H5adAdditionWriter.write(to: output, from: input, obsmBlocks: [embedding], varm: streamed.varm, uns: streamed.uns,
                                             linkUnchanged: link.linkUnchanged, compression: compression.hdf5)
            }
        }
    }

    /// Data-parallel embedding (`cellweave-mpi embed`): each process embeds its share of the cells,
    /// read from the .h5ad's rows (in blocks within --max-memory when given); the first process
    /// gathers the embedding and writes the output as a streamed embed does. Shares are whole
    /// chunks of --chunk-size cells, so the embedding is that of `cellweave embed`, bit for bit.
    public func run(processGroup group: any ProcessGroup) throws {
        guard !correctedExpression, impute == nil else {
            throw ValidationError("cellweave-mpi embed writes the embedding alone: not with --corrected-expression or --impute")
        }
        Log.enabled = group.rank == 0
        BLAS.threadCount = 1
        let (manifest, tensors) = try ModelDirectory(path: model).load()
        let streamed = try StreamedEmbedding(self, manifest: manifest, tensors: tensors, budget: maxMemory.flatMap(MemoryLimit.parse),
                                             streaming: "data-parallel embedding")
        let cells = streamed.source.stream.rows, latent = manifest.configuration.latent
        let held = group.heldCells(of: cells, inRunsOf: chunkSize)
        var local: [Float] = []
        local.reserveCapacity(held.count * latent)
        try Log.timed("embedding cells \(held.lowerBound)..<\(held.upperBound) of \(cells) on each of \(group.size) processes") {
            try streamed.forEachBlock(of: held) { _, written in local += written.values }
        }
        let shares = (0..<group.size).map { group.heldCells(of: cells, inRunsOf: chunkSize, rank: $0).count * latent }
        let all = try group.gather(local, counts: shares)
        guard group.rank == 0 else { return }
        let embedding = try DenseMatrix(rows: cells, cols: latent, values: all)
        try Log.timed("writing \(output)") {
            try H5adAdditionWriter.write(to: output, from: input, obsm: [("X_cellweave", .dense(embedding))], varm: streamed.varm, uns: streamed.uns,
                                         linkUnchanged: link.linkUnchanged, compression: compression.hdf5)
        }
        if let npy { try NPYWriter.write(embedding, to: npy) }
        if let tsv { try TSVWriter.write(TSVWriter.encode(embedding, rowNames: streamed.source.obs.index, columnPrefix: "X_cellweave_"), to: tsv) }
    }

    /// What a streamed or data-parallel embed reads and adds besides the embedding: the input's
    /// tables and rows, the model, a linear model's loadings and the provenance.
    private struct StreamedEmbedding {
        let source: StreamedInput
        let inference: StreamedInference
        let blockRows: Int
        let loadings: GeneLoadings?
        var varm: [(name: String, matrix: AnnMatrix)] = []
        var uns: [(name: String, value: UnsValue)] = []

        /// `budget`: the memory a block's counts may take (nil: a process's cells in one block).
        init(_ command: EmbedCommand, manifest: ModelManifest, tensors: [NamedTensor], budget: UInt64?, streaming: String) throws {
            source = try StreamedInput(command.input, manifest: manifest, source: command.counts.source(default: manifest.countsSource), streaming: streaming)
            let vae = VariationalAutoencoder<Float>(configuration: manifest.configuration, capacity: command.chunkSize, threads: command.threads, seed: 0)
            try vae.load(tensors)
            inference = StreamedInference(model: vae, codes: source.codes, categoryCounts: manifest.configuration.categoryCounts)
            blockRows = budget.map(source.stream.blockRows) ?? source.stream.rows
            loadings = try GeneLoadings(vae, geneNames: manifest.geneNames, varimax: command.varimax)
            Provenance.record(&uns, parameters: [("model", .string(command.model)),
                                                 ("max_memory", .string(command.maxMemory ?? budget.map(MemoryLimit.describe) ?? "none"))])
            if let loadings {
                varm.append((GeneLoadings.key, .dense(loadings.aligned(to: source.columns, fileGenes: source.varTable.rowCount))))
                uns.append((GeneLoadings.key, loadings.summary(top: 10)))
            }
        }

        /// Each block's embedding, in the loadings' axes for a linear model.
        func forEachBlock(of range: Range<Int>? = nil, _ body: (Range<Int>, DenseMatrix) throws -> Void) throws {
            try inference.forEachPosteriorMeans(blockRows: blockRows, of: range, counts: source.counts) { block, means in
                try body(block, try loadings?.inAxes(means) ?? means)
            }
        }
    }

    /// The corrected layer needs one value per var gene: when the model has fewer genes than the
    /// file, the output keeps the model's genes only.
    private func placeCorrectedExpression(_ expression: DenseMatrix, manifest: ModelManifest, in adata: AnnData) throws -> AnnData {
        let columns = try ModelInputs.modelColumns(manifest, in: adata.varTable, file: input)
        var out = adata
        if columns.count != adata.nVars {
            Log.info("warning: the model has \(columns.count) of the file's \(adata.nVars) genes; the output keeps those genes only")
            out = try adata.selecting(cells: Array(0..<adata.nObs), genes: columns)
            out.layers.append(("cellweave_corrected", .dense(expression)))
            return out
        }
        var ordered = DenseMatrix(rows: expression.rows, cols: expression.cols)
        for i in 0..<expression.rows {
            for (g, j) in columns.enumerated() { ordered.values[i * expression.cols + j] = expression.values[i * expression.cols + g] }
        }
        out.layers.removeAll { $0.name == "cellweave_corrected" }
        out.layers.append(("cellweave_corrected", .dense(ordered)))
        return out
    }
}

enum ImputedModality: String, ExpressibleByArgument, CaseIterable {
    case protein
}
