import CellWeaveCore
import RealModule

/// Simulated UMI counts with known cell types and batch effects (after Splatter, Zappia et al.
/// 2017, simplified): gene base expression from a gamma distribution, differentially expressed
/// genes per cell type with log-normal fold changes, a multiplicative log-normal effect per gene and
/// batch, log-normal library sizes, and negative binomial counts. For testing integration: a good
/// embedding separates `cell_type` and mixes `batch`. Optionally a fraction of cells carries an
/// aberrant program (a set of genes up and down by a fold change), for testing anomaly scores,
/// and gene programs can run across all cells with a per-cell activity, for testing loadings.
public struct CountSimulator: Sendable {
    public var cells = 3000
    public var genes = 1000
    public var cellTypes = 4
    public var batches = 3
    /// Fraction of genes differentially expressed in each cell type.
    public var deFraction = 0.1
    /// Location and scale of the log fold change of a DE gene (its sign is random).
    public var deLogFoldChange = (location: 1.0, scale: 0.4)
    /// Standard deviation of the log batch factor of each gene in each batch.
    public var batchEffect = 0.5
    /// Location and scale of the log library size.
    public var logLibrarySize = (location: 7.5, scale: 0.3)
    /// Negative binomial inverse dispersion of every gene.
    public var theta = 10.0
    /// Gene base expression ~ Gamma(shape, scale) before normalising to proportions.
    public var baseExpression = (shape: 0.6, scale: 1 / 0.3)
    /// Fraction of cells (in `aberrantBatches`, or all batches when nil) given the aberrant program.
    public var aberrantFraction = 0.0
    /// Genes in the aberrant program: half multiplied, half divided by the fold change.
    public var aberrantGenes = 60
    public var aberrantFoldChange = 4.0
    public var aberrantBatches: Set<Int>? = nil
    /// Gene programs: each a set of `programGenes` genes (disjoint between programs) whose log
    /// expression rises by `programLogFoldChange` times the cell's activity of the program, drawn
    /// uniform in [0, 1] for every cell independently of its type and batch.
    public var programs = 0
    public var programGenes = 30
    public var programLogFoldChange = 3.0
    /// The last this many cell types share the RNA profile of the first ones: they differ in
    /// protein only (with a panel that says so), so RNA alone cannot separate them.
    public var proteinOnlyTypes = 0
    /// The protein-only types there can be: each needs an RNA twin among the first half.
    var twinnedTypes: Int { min(proteinOnlyTypes, cellTypes / 2) }
    /// The antibody panel of `simulateCITEseq` (none by default).
    public var protein = ProteinPanel()

    public init() {}

    public func simulate(seed: UInt64) throws -> AnnData {
        var indptr = [0], indices: [Int32] = [], values: [Float] = []
        var adata = try simulate(seed: seed, blockCells: cells) { block in
            indptr += block.indptr.dropFirst().map { $0 + indices.count }
            indices += block.indices
            values += block.values
        }
        adata.x = .csr(CSRMatrix(uncheckedRows: cells, cols: genes, indptr: indptr, indices: indices, values: values))
        adata.hasX = true
        return adata
    }

    /// The same cells, handed to `emit` `blockCells` at a time as they are drawn, so that a file of
    /// millions of cells is written without its matrix in memory (`simulate` writes it so). The
    /// result holds the rest: obs, var and uns, with no X.
    public func simulate(seed: UInt64, blockCells: Int, emit: (CSRMatrix) throws -> Void) throws -> AnnData {
        precondition(blockCells >= 1)
        var rng = SeededGenerator(seed: seed)
        let base = (0..<genes).map { _ in rng.nextGamma(shape: baseExpression.shape, scale: baseExpression.scale) }
        // Log fold change per cell type and gene (0 for genes that are not DE in that type).
        var typeEffects = [[Double]](repeating: [Double](repeating: 0, count: genes), count: cellTypes)
        var isDE = [Bool](repeating: false, count: genes)
        for t in 0..<cellTypes {
            for g in 0..<genes where rng.nextOpenUniform() < deFraction {
                let sign: Double = rng.nextOpenUniform() < 0.5 ? -1 : 1
                typeEffects[t][g] = sign * Double.exp(Double.log(deLogFoldChange.location) + deLogFoldChange.scale * rng.nextGaussian())
                isDE[g] = true
            }
        }
        for k in 0..<twinnedTypes { typeEffects[cellTypes - 1 - k] = typeEffects[k] }
        let batchEffects = (0..<batches).map { _ in (0..<genes).map { _ in batchEffect * rng.nextGaussian() } }
        // Expression proportions per (type, batch) group.
        var proportions: [[Double]] = []
        for t in 0..<cellTypes {
            for b in 0..<batches {
                let w = (0..<genes).map { g in base[g] * Double.exp(typeEffects[t][g] + batchEffects[b][g]) }
                let total = w.reduce(0, +)
                proportions.append(w.map { $0 / total })
            }
        }

        // The aberrant program, drawn only when asked for, so other simulations keep their streams.
        var aberrantProportions: [[Double]] = []
        var isAberrantGene = [Bool](repeating: false, count: genes)
        if aberrantFraction > 0 {
            var order = Array(0..<genes)
            for i in stride(from: genes - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            let program = Array(order.prefix(min(aberrantGenes, genes)))
            var factor = [Double](repeating: 1, count: genes)
            for (k, g) in program.enumerated() {
                factor[g] = k % 2 == 0 ? aberrantFoldChange : 1 / aberrantFoldChange
                isAberrantGene[g] = true
            }
            aberrantProportions = proportions.map { p in
                let w = zip(p, factor).map { $0 * $1 }, total = w.reduce(0, +)
                return w.map { $0 / total }
            }
        }

        // Gene programs, drawn only when asked for (as the aberrant program).
        var programOfGene = [Int32](repeating: 0, count: genes)
        var programMembers: [[Int]] = []
        if programs > 0 {
            var order = Array(0..<genes)
            for i in stride(from: genes - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            let size = min(programGenes, genes / programs)  // the CLI refuses more, a library caller gets fewer
            programMembers = (0..<programs).map { k in Array(order[(k * size)..<((k + 1) * size)]) }
            for (k, members) in programMembers.enumerated() { for g in members { programOfGene[g] = Int32(k + 1) } }
        }
        var activities = [[Double]](repeating: [], count: programs)
        var programmed = [Double](repeating: 0, count: programs > 0 ? genes : 0)

        var indptr = [0], indices: [Int32] = [], values: [Float] = []
        var typeCodes: [Int32] = [], batchCodes: [Int32] = [], libraries: [Double] = [], aberrant: [Bool] = []
        func flush() throws {
            guard indptr.count > 1 else { return }
            try emit(CSRMatrix(uncheckedRows: indptr.count - 1, cols: genes, indptr: indptr, indices: indices, values: values))
            (indptr, indices, values) = ([0], [], [])
        }
        for cell in 0..<cells {
            if cell > 0, cell % blockCells == 0 { try flush() }
            let t = Int(rng.next() % UInt64(cellTypes)), b = Int(rng.next() % UInt64(batches))
            let library = Double.exp(logLibrarySize.location + logLibrarySize.scale * rng.nextGaussian())
            let isAberrant = aberrantFraction > 0 && (aberrantBatches?.contains(b) ?? true) && rng.nextOpenUniform() < aberrantFraction
            aberrant.append(isAberrant)
            var p = isAberrant ? aberrantProportions[t * batches + b] : proportions[t * batches + b]
            if programs > 0 {
                // The programs' genes scaled by exp(fold change x activity), then renormalised.
                for g in 0..<genes { programmed[g] = p[g] }
                var total = 1.0
                for k in 0..<programs {
                    let a = rng.nextOpenUniform(), factor = Double.exp(programLogFoldChange * a)
                    activities[k].append(a)
                    for g in programMembers[k] { total += programmed[g] * (factor - 1); programmed[g] *= factor }
                }
                for g in 0..<genes { programmed[g] /= total }
                p = programmed
            }
            for g in 0..<genes {
                let x = rng.nextNegativeBinomial(mean: library * p[g], theta: theta)
                if x > 0 {
                    indices.append(Int32(g))
                    values.append(Float(x))
                }
            }
            indptr.append(indices.count)
            typeCodes.append(Int32(t))
            batchCodes.append(Int32(b))
            libraries.append(library)
        }
        try flush()
        var obs = DataFrame(index: (0..<cells).map { "cell\($0)" })
        try obs.setColumn("cell_type", .categorical(codes: typeCodes, categories: .strings((0..<cellTypes).map { "type\($0)" }), ordered: false))
        try obs.setColumn("batch", .categorical(codes: batchCodes, categories: .strings((0..<batches).map { "batch\($0)" }), ordered: false))
        try obs.setColumn("expected_library_size", .numeric(NumericArray(floats: libraries)))
        if aberrantFraction > 0 { try obs.setColumn("aberrant", .booleans(aberrant)) }
        for k in 0..<programs { try obs.setColumn("program\(k + 1)_activity", .numeric(NumericArray(floats: activities[k]))) }
        var varTable = DataFrame(index: (0..<genes).map { "Gene\($0)" })
        try varTable.setColumn("is_de", .booleans(isDE))
        try varTable.setColumn("base_proportion", .numeric(NumericArray(floats: base.map { $0 / base.reduce(0, +) })))
        if aberrantFraction > 0 { try varTable.setColumn("is_aberrant_gene", .booleans(isAberrantGene)) }
        if programs > 0 {
            try varTable.setColumn("program", .categorical(codes: programOfGene, categories: .strings(["none"] + (1...programs).map { "program\($0)" }),
                                                           ordered: false))
        }
        var adata = try AnnData(x: .csr(CSRMatrix(uncheckedRows: cells, cols: genes, indptr: [Int](repeating: 0, count: cells + 1), indices: [], values: [])),
                                obs: obs, varTable: varTable)
        adata.hasX = false
        adata.uns = [("simulation", .dict([
            ("seed", .number(Double(seed))), ("cell_types", .number(Double(cellTypes))), ("batches", .number(Double(batches))),
            ("de_fraction", .number(deFraction)), ("batch_effect", .number(batchEffect)), ("theta", .number(theta)),
            ("aberrant_fraction", .number(aberrantFraction)), ("aberrant_genes", .number(Double(aberrantGenes))),
            ("aberrant_fold_change", .number(aberrantFoldChange)), ("programs", .number(Double(programs))),
            ("program_genes", .number(Double(programMembers.first?.count ?? 0))), ("program_log_fold_change", .number(programLogFoldChange)),
        ]))]
        return adata
    }
}
