import CellWeaveCore

/// Anomaly scores of counts streamed from disk block by block (`score --max-memory`), calibrated
/// as `AnomalyScoring` calibrates: RNA models, batches the model knows, residuals of the model.
/// Reference cells among the query's own (a batch, or the held-out cells when the query is the
/// training file) take the scores their query rows get; those of another file are streamed too,
/// only the blocks that hold them read. In memory are the per-cell scores and one block's counts.
/// In a process group (`cellweave-mpi score`) each process scores its share of the cells, whole
/// chunks of the model's capacity, and the first gathers the scores and calibrates them.
public struct StreamedAnomalyScoring {
    /// Cells whose counts arrive block by block.
    public struct Cells {
        public let inference: StreamedInference
        /// `counts(range)`: those cells' counts in the model's genes.
        public let counts: (Range<Int>) throws -> CSRMatrix

        public init(inference: StreamedInference, counts: @escaping (Range<Int>) throws -> CSRMatrix) {
            self.inference = inference
            self.counts = counts
        }
    }

    public enum Reference {
        /// The cells train held out (by name) among `obsNames`, the training file's cells: `cells`
        /// streams that file, or nil when it is the query.
        case heldOut(obsNames: [String], heldOut: [String], cells: Cells?, file: String)
        /// Every cell of another file.
        case file(Cells, file: String)
        /// The query's cells of this batch (a category of the model's batch key).
        case batch(String, categories: [String], queryFile: String)
    }

    public let query: Cells
    public let reference: Reference
    /// Cells a block holds: rounded to whole chunks of the model's capacity.
    public let blockRows: Int

    public init(query: Cells, reference: Reference, blockRows: Int) {
        self.query = query
        self.reference = reference
        self.blockRows = blockRows
    }

    /// Nil on every process of `group` but the first.
    public func run(settings: AnomalyScoring.Settings, processGroup group: (any ProcessGroup)? = nil) throws
        -> (result: AnomalyScoring.Result, referenceName: String)? {
        let queryScores = try scores(query, settings: settings, group: group)
        // Only the first process has every score; the others take part in the gathers alone.
        let first = group.map { $0.rank == 0 } ?? true
        let referenceScores: [AnomalyScorer.CellScore], name: String, named: Bool
        switch reference {
        case let .batch(batch, categories, queryFile):
            guard let b = categories.firstIndex(of: batch) else {
                throw AnomalyScoring.ReferenceError(description: "no cells of batch '\(batch)' in the query")
            }
            referenceScores = first ? query.inference.codes[0].indices.filter { query.inference.codes[0][$0] == Int32(b) }.map { queryScores[$0] } : []
            (name, named) = (AnomalyScoring.name(ofBatch: batch, in: queryFile), true)
        case let .file(cells, file):
            referenceScores = try scores(cells, settings: settings, group: group)
            (name, named) = (AnomalyScoring.name(ofEveryCellOf: file), true)
        case let .heldOut(obsNames, heldOut, cells, file):
            let rows = try AnomalyScoring.heldOutRows(obsNames: obsNames, heldOut: heldOut, file: file)
            referenceScores = try cells.map { try scores($0, rows: rows, settings: settings, group: group) }
                ?? (first ? rows.map { queryScores[$0] } : [])
            (name, named) = (AnomalyScoring.name(ofHeldOut: rows.count, from: file), false)
        }
        guard first else { return nil }
        let result = try AnomalyScoring.calibrate(query: queryScores, reference: referenceScores, referenceName: name,
                                                  referenceIsNamed: named, alpha: settings.alpha)
        return (result, name)
    }

    /// Scores of `rows` (sorted; nil: every cell), in order; in a group, each process scores those
    /// of its share and the first gets them all (the others none).
    func scores(_ cells: Cells, rows: [Int]? = nil, settings: AnomalyScoring.Settings, group: (any ProcessGroup)?) throws -> [AnomalyScorer.CellScore] {
        guard let group else { return try rows.map { try scores(cells, rows: $0, settings: settings) } ?? scores(cells, of: nil, settings: settings) }
        // Whole chunks to each process: of the cells, or of the chosen rows, as one process takes them.
        let capacity = cells.inference.model.capacity
        let shares = (0..<group.size).map { group.heldCells(of: rows?.count ?? cells.inference.cells, inRunsOf: capacity, rank: $0) }
        let held = shares[group.rank]
        let local = try rows.map { try scores(cells, rows: Array($0[held]), settings: settings) } ?? scores(cells, of: held, settings: settings)
        let stride = 2 + 2 * settings.topGenes
        let counts = shares.map { stride * $0.count }
        let gathered = try group.gather(Self.packed(local, top: settings.topGenes), counts: counts)
        return Self.unpacked(gathered, top: settings.topGenes)
    }

    /// Scores of every cell of `range` (nil: all), in order: the blocks are whole chunks of the
    /// model's capacity from the range's start, so each cell is scored in the chunk it has in memory.
    private func scores(_ cells: Cells, of range: Range<Int>?, settings: AnomalyScoring.Settings) throws -> [AnomalyScorer.CellScore] {
        var out: [AnomalyScorer.CellScore] = []
        // At its size: grown by appending, a list of millions of scores would hold up to twice that.
        out.reserveCapacity((range ?? 0..<cells.inference.cells).count)
        try cells.inference.forEachBlock(blockRows: blockRows, of: range, counts: cells.counts) { _, data in
            out += scorer(cells, data, settings).score()
        }
        return out
    }

    /// Scores of `rows` (sorted), in order, in chunks of the model's capacity over these rows alone
    /// as `AnomalyScorer.score(rows)` takes them in memory: the rows of successive blocks are
    /// collected until a chunk is full. A cell's last bits depend on the chunk it is scored in (the
    /// matrix products' kernels follow their sizes), so the chunks must not follow the blocks.
    private func scores(_ cells: Cells, rows: [Int], settings: AnomalyScoring.Settings) throws -> [AnomalyScorer.CellScore] {
        let inference = cells.inference, capacity = inference.model.capacity
        var out: [AnomalyScorer.CellScore] = []
        out.reserveCapacity(rows.count)
        var pieces: [CSRMatrix] = [], chunk: [Int] = []
        func scoreChunk() throws {
            guard !chunk.isEmpty else { return }
            let counts = try pieces.dropFirst().reduce(pieces[0]) { try ScoringSet.stack($0, $1) }
            let codes = inference.codes.map { key in chunk.map { key[$0] } }
            out += scorer(cells, TrainingData(counts: counts, codes: codes, categoryCounts: inference.categoryCounts), settings).score()
            (pieces, chunk) = ([], [])
        }
        var next = 0
        try inference.forEachBlock(blockRows: blockRows, only: rows, counts: cells.counts) { block, data in
            while next < rows.count, rows[next] < block.upperBound {
                let start = next
                while next < rows.count, rows[next] < block.upperBound, next - start + chunk.count < capacity { next += 1 }
                pieces.append(try data.counts.selectingRows(rows[start..<next].map { $0 - block.lowerBound }))
                chunk += rows[start..<next]
                if chunk.count == capacity { try scoreChunk() }
            }
        }
        try scoreChunk()
        return out
    }

    private func scorer(_ cells: Cells, _ data: TrainingData, _ settings: AnomalyScoring.Settings) -> AnomalyScorer {
        var scorer = AnomalyScorer(model: cells.inference.model, data: data)
        (scorer.statistic, scorer.topGenes, scorer.clip) = (settings.statistic, settings.topGenes, settings.clip)
        return scorer
    }

    /// RNA scores as numbers a gather carries, `2 + 2 top` a cell: score, weight, then each top
    /// gene's index and residual (-1 and 0 past the cell's last).
    static func packed(_ scores: [AnomalyScorer.CellScore], top: Int) -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(scores.count * (2 + 2 * top))
        for s in scores {
            out += [s.rna.score, s.rna.weight]
            for k in 0..<top { out += k < s.rna.topGenes.count ? [Double(s.rna.topGenes[k].gene), Double(s.rna.topGenes[k].residual)] : [-1, 0] }
        }
        return out
    }

    static func unpacked(_ values: [Double], top: Int) -> [AnomalyScorer.CellScore] {
        let stride = 2 + 2 * top
        return Swift.stride(from: 0, to: values.count, by: stride).map { i in
            let genes = (0..<top).compactMap { k -> (gene: Int, residual: Float)? in
                values[i + 2 + 2 * k] < 0 ? nil : (Int(values[i + 2 + 2 * k]), Float(values[i + 3 + 2 * k]))
            }
            return AnomalyScorer.CellScore(rna: ResidualSummary(score: values[i], weight: values[i + 1], topGenes: genes))
        }
    }
}
