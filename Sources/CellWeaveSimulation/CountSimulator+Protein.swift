import CellWeaveCore
import RealModule

extension CountSimulator {
    /// A CITE-seq antibody panel: each protein has a background in every cell (ambient antibody
    /// and non-specific binding; its level per protein log-normal, shifted per batch as staining
    /// differs between samples) and, in the cell types that express it, a foreground on top: the
    /// mean is size * background * (1 + fold) there, size * background elsewhere, counts NB.
    public struct ProteinPanel: Sendable {
        public var proteins = 0
        /// Chance that a cell type expresses a protein.
        public var expressedFraction = 0.35
        /// Location and scale of the log fold of foreground over background.
        public var logFold = (location: Double.log(10), scale: 0.5)
        /// Location and scale of each protein's log background mean.
        public var logBackground = (location: Double.log(12), scale: 0.5)
        /// Standard deviation of the per-batch shift of every protein's log background.
        public var batchBackgroundEffect = 0.4
        /// Standard deviation of a cell's log size factor (antibody capture per cell).
        public var logCellSize = 0.3
        public var theta = 5.0
        /// Batches (0-based) stained with no antibody panel: their cells have no protein.
        public var missingBatches: Set<Int> = []
        /// Share of the other cells whose protein is not measured.
        public var missingFraction = 0.0
        public init() {}
    }

    /// RNA as `simulate` makes it (the same counts for the same seed) and the panel's protein
    /// counts, as modalities: `rna` for every cell, `prot` for the cells measured. obs
    /// `cell_type` and `batch` are the whole's.
    public func simulateCITEseq(seed: UInt64) throws -> MuData {
        var adata = try simulate(seed: seed)
        guard protein.proteins > 0 else { return try MuData(adata) }
        guard case let .categorical(types, _, _)? = adata.obs["cell_type"], case let .categorical(batchCodes, _, _)? = adata.obs["batch"] else {
            preconditionFailure("simulate writes cell_type and batch")
        }
        // A stream of its own, so the RNA counts stay those of `simulate`.
        var rng = SeededGenerator(seed: seed ^ 0x9E37_79B9_7F4A_7C15)
        let p = protein.proteins
        let background = (0..<p).map { _ in protein.logBackground.location + protein.logBackground.scale * rng.nextGaussian() }
        let batchShift = (0..<batches).map { _ in (0..<p).map { _ in protein.batchBackgroundEffect * rng.nextGaussian() } }
        var fold = [[Double]](repeating: [Double](repeating: 0, count: p), count: cellTypes)
        for t in 0..<cellTypes {
            for j in 0..<p where rng.nextOpenUniform() < protein.expressedFraction {
                fold[t][j] = Double.exp(protein.logFold.location + protein.logFold.scale * rng.nextGaussian())
            }
        }
        // Protein-only types differ from their RNA twins in the panel: give each a protein of its own.
        for k in 0..<twinnedTypes {
            let t = cellTypes - 1 - k, j = (2 * k) % p, other = (2 * k + 1) % p
            fold[t][j] = Double.exp(protein.logFold.location)
            fold[k][j] = 0
            fold[k][other] = Double.exp(protein.logFold.location)
            fold[t][other] = 0
        }
        var indptr = [0], indices: [Int32] = [], values: [Float] = [], measured: [Int] = []
        for c in 0..<cells {
            let t = Int(types[c]), b = Int(batchCodes[c])
            let size = Double.exp(protein.logCellSize * rng.nextGaussian())
            let missing = protein.missingBatches.contains(b) || (protein.missingFraction > 0 && rng.nextOpenUniform() < protein.missingFraction)
            guard !missing else { continue }
            for j in 0..<p {
                let mean = size * Double.exp(background[j] + batchShift[b][j]) * (1 + fold[t][j])
                let y = rng.nextNegativeBinomial(mean: mean, theta: protein.theta)
                if y > 0 {
                    indices.append(Int32(j))
                    values.append(Float(y))
                }
            }
            indptr.append(indices.count)
            measured.append(c)
        }
        let counts = CSRMatrix(uncheckedRows: measured.count, cols: p, indptr: indptr, indices: indices, values: values)
        var varTable = DataFrame(index: (0..<p).map { "Protein\($0)" })
        try varTable.setColumn("feature_types", .strings(Array(repeating: "Antibody Capture", count: p)))
        try varTable.setColumn("expressed_in_types", .strings((0..<p).map { j in
            (0..<cellTypes).filter { fold[$0][j] > 0 }.map { "type\($0)" }.joined(separator: ",")
        }))
        let panel = try AnnData(x: .csr(counts), obs: DataFrame(index: measured.map { adata.obs.index[$0] }), varTable: varTable)
        adata.uns.append(("simulation_protein", .dict([
            ("proteins", .number(Double(p))), ("missing_batches", .strings(protein.missingBatches.sorted().map(String.init))),
            ("missing_fraction", .number(protein.missingFraction)), ("protein_only_types", .number(Double(proteinOnlyTypes))),
        ])))
        var mdata = try MuData(adata)
        mdata.modalities.append(Modality(name: ModalityKind.protein.muonName, kind: .protein, data: panel, cells: measured))
        return mdata
    }
}
