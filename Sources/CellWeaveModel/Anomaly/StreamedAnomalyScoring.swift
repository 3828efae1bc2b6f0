import CellWeaveCore

/// Anomaly scores of counts streamed from disk block by block (`score --max-memory`), calibrated
/// as `AnomalyScoring` calibrates: RNA models, batches the model knows, residuals of the model.
/// Reference cells among the query's own (a batch, or the held-out cells when the query is the
/// training file) take the scores their query rows get; those of another file are streamed too,
/// only the blocks that hold them read. In memory are the per-cell scores and one block's counts.
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

    public func run(settings: AnomalyScoring.Settings) throws -> (result: AnomalyScoring.Result, referenceName: String) {
        let queryScores = try scores(query, settings: settings)
        let referenceScores: [AnomalyScorer.CellScore], name: String, named: Bool
        switch reference {
        case let .batch(batch, categories, queryFile):
            guard let b = categories.firstIndex(of: batch) else {
                throw AnomalyScoring.ReferenceError(description: "no cells of batch '\(batch)' in the query")
            }
            referenceScores = query.inference.codes[0].indices.filter { query.inference.codes[0][$0] == Int32(b) }.map { queryScores[$0] }
            (name, named) = (AnomalyScoring.name(ofBatch: batch, in: queryFile), true)
        case let .file(cells, file):
            referenceScores = try scores(cells, settings: settings)
            (name, named) = (AnomalyScoring.name(ofEveryCellOf: file), true)
        case let .heldOut(obsNames, heldOut, cells, file):
            let wanted = Set(heldOut)
            let rows = obsNames.indices.filter { wanted.contains(obsNames[$0]) }
            referenceScores = try cells.map { try scores($0, rows: rows, settings: settings) } ?? rows.map { queryScores[$0] }
            (name, named) = (AnomalyScoring.name(ofHeldOut: rows.count, from: file), false)
        }
        let result = try AnomalyScoring.calibrate(query: queryScores, reference: referenceScores, referenceName: name,
                                                  referenceIsNamed: named, alpha: settings.alpha)
        return (result, name)
    }

    /// Scores of `rows` (sorted; nil: every cell), in order.
    func scores(_ cells: Cells, rows: [Int]? = nil, settings: AnomalyScoring.Settings) throws -> [AnomalyScorer.CellScore] {
        var out: [AnomalyScorer.CellScore] = []
        var next = 0
        try cells.inference.forEachBlock(blockRows: blockRows, only: rows, counts: cells.counts) { block, data in
            var scorer = AnomalyScorer(model: cells.inference.model, data: data)
            (scorer.statistic, scorer.topGenes, scorer.clip) = (settings.statistic, settings.topGenes, settings.clip)
            guard let rows else { return out += scorer.score() }
            var local: [Int] = []
            while next < rows.count, rows[next] < block.upperBound { local.append(rows[next] - block.lowerBound); next += 1 }
            out += scorer.score(local)
        }
        return out
    }
}
