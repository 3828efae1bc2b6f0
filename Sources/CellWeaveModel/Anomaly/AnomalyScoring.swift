import CellWeaveCore
import CellWeavePreprocess

/// Scores a query's cells and calibrates them against reference cells (DESIGN.md section 5): which
/// cells calibrate (the cells train held out, every cell of a reference file, or one batch of the
/// query), how a reference file is stacked under the query, when a reference is too small, and
/// the q-values and flags that follow. The CLI reads the files and writes the results.
public struct AnomalyScoring {
    /// Where the reference cells come from.
    public enum Reference {
        /// The cells train held out (`heldOut`, by name), found among its training file's cells
        /// (`obsNames`, the file's obs index): that file's inputs, or nil when it is the query.
        case heldOut(ModelInputs?, obsNames: [String], heldOut: [String], file: String)
        /// Every cell of another file.
        case file(ModelInputs, file: String)
        /// The query's own cells of this batch (a category of the model's batch key); `queryFile`
        /// names the query in the reference's description.
        case batch(String, queryFile: String)
    }

    public enum Method: String, CaseIterable, Sendable {
        /// Residuals of the trained model.
        case model
        /// Model-free analytic Pearson residuals, for comparison.
        case analytic
    }

    public struct Settings: Sendable {
        public var method = Method.model
        public var statistic = ResidualStatistic.weightedMeanSquared
        public var topGenes = 10
        public var clip: Double? = 10
        /// False discovery rate at which cells are flagged.
        public var alpha = 0.05
        public init() {}
    }

    public struct ReferenceError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The training file no longer holds the cells train held out, one each.
    public struct HeldOutError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The rows of the cells train held out, found by name in its training file: exactly one each.
    /// A cell missing (the file changed since training) or a name on several cells (obs names not
    /// unique, so a training cell could join the reference) would calibrate against other cells.
    public static func heldOutRows(obsNames: [String], heldOut: [String], file: String) throws -> [Int] {
        let wanted = Set(heldOut)
        let rows = obsNames.indices.filter { wanted.contains(obsNames[$0]) }
        var cellsNamed: [String: Int] = [:]
        for r in rows { cellsNamed[obsNames[r], default: 0] += 1 }
        if let r = rows.first(where: { cellsNamed[obsNames[$0]]! > 1 }) {
            throw HeldOutError(description: "\(file): the held-out cell '\(obsNames[r])' names \(cellsNamed[obsNames[r]]!) cells (obs names are not unique); "
                               + "score against --reference or --reference-batch")
        }
        let missing = heldOut.filter { cellsNamed[$0] == nil }
        guard missing.isEmpty else {
            throw HeldOutError(description: "\(file): \(missing.count) of the \(heldOut.count) cells train held out are not in it (e.g. '\(missing[0])'; "
                               + "was it changed since training?); score against --reference or --reference-batch")
        }
        return rows
    }

    public struct Result {
        public let queryScores: [AnomalyScorer.CellScore]
        public let referenceScores: [AnomalyScorer.CellScore]
        public let calibrated: [ModalityCalibration.Calibrated]
        public let qValues: [Double]
        public let flags: [Bool]
        /// Reference cells behind each basis.
        public let referenceCount: (rna: Int, withProtein: Int)
        /// What a user should know: the summary line, and why no cell could be flagged.
        public let notes: [String]
        public let warnings: [String]
    }

    public let set: ScoringSet
    /// The reference in words, for logs and reports.
    public let referenceName: String
    /// A reference the user named must be able to flag cells; the cells train held out are what
    /// there is (a small data set holds out few), so those only warn.
    let referenceIsNamed: Bool
    /// The reference file's counts, for analytic residuals from its own totals.
    let referenceCounts: CSRMatrix?
    let queryCounts: CSRMatrix

    public init(query: ModelInputs, reference: Reference, modelCategoryCounts: [Int]) throws {
        queryCounts = query.counts
        switch reference {
        case let .batch(name, queryFile):
            guard let b = query.categories[0].firstIndex(of: name) else {
                throw ReferenceError(description: "no cells of batch '\(name)' in the query")
            }
            set = ScoringSet(query: query, referenceRows: query.codes[0].indices.filter { query.codes[0][$0] == Int32(b) })
            referenceName = Self.name(ofBatch: name, in: queryFile)
            referenceIsNamed = true
            referenceCounts = nil
        case let .file(inputs, file):
            set = try ScoringSet(query: query, reference: inputs, referenceRows: Array(0..<inputs.counts.rows), modelCategoryCounts: modelCategoryCounts)
            referenceName = Self.name(ofEveryCellOf: file)
            referenceIsNamed = true
            referenceCounts = inputs.counts
        case let .heldOut(inputs, obsNames, heldOut, file):
            let rows = try Self.heldOutRows(obsNames: obsNames, heldOut: heldOut, file: file)
            set = try inputs.map { try ScoringSet(query: query, reference: $0, referenceRows: rows, modelCategoryCounts: modelCategoryCounts) }
                ?? ScoringSet(query: query, referenceRows: rows)
            referenceName = Self.name(ofHeldOut: rows.count, from: file)
            referenceIsNamed = false
            referenceCounts = inputs?.counts
        }
    }

    /// Scores with `model` (mapped to the set's categories; nil for the analytic method) and
    /// calibrates.
    public func run(model: VariationalAutoencoder<Float>?, settings: Settings) throws -> Result {
        let queryScores: [AnomalyScorer.CellScore], referenceScores: [AnomalyScorer.CellScore]
        var referenceRNAAlone: [AnomalyScorer.CellScore]?
        if settings.method == .model, let model {
            var scorer = AnomalyScorer(model: model, data: set.data)
            scorer.statistic = settings.statistic
            scorer.topGenes = settings.topGenes
            scorer.clip = settings.clip
            queryScores = scorer.score(set.queryRows)
            // A reference among the query's own cells (held out, one batch) takes its scores from the
            // query's pass, as the streamed scoring does: scored again in chunks of other cells, their
            // last bits could differ (the matrix products follow a chunk's sizes, the first layer its density).
            referenceScores = set.referenceInQuery ? set.referenceRows.map { queryScores[$0] } : scorer.score(set.referenceRows)
            referenceRNAAlone = scorer.rnaAlone(referenceScores, of: set.referenceRows)
        } else {
            // Each file's residuals from its own totals, as scanpy computes them per dataset.
            let q = try Self.analyticScores(queryCounts, rows: set.queryRows, topGenes: settings.topGenes)
            let r = try referenceCounts.map { try Self.analyticScores($0, rows: set.referenceRows.map { $0 - queryCounts.rows }, topGenes: settings.topGenes) }
            (queryScores, referenceScores) = (q, r ?? set.referenceRows.map { q[$0] })
        }
        return try Self.calibrate(query: queryScores, reference: referenceScores, referenceRNAAlone: referenceRNAAlone,
                                  referenceName: referenceName, referenceIsNamed: referenceIsNamed, alpha: settings.alpha)
    }

    /// p-values, q-values and flags of query scores against reference scores (`referenceRNAAlone`:
    /// the reference scored by RNA alone, for models with protein), and what to tell the user.
    static func calibrate(query queryScores: [AnomalyScorer.CellScore], reference referenceScores: [AnomalyScorer.CellScore],
                          referenceRNAAlone: [AnomalyScorer.CellScore]? = nil, referenceName: String, referenceIsNamed: Bool,
                          alpha: Double) throws -> Result {
        let calibration = try ModalityCalibration(reference: referenceScores, rnaAlone: referenceRNAAlone, alpha: alpha,
                                                  requireFlaggable: referenceIsNamed)
        let calibrated = queryScores.map(calibration.calibrate)
        let q = AnomalyCalibration.benjaminiHochberg(calibrated.map(\.pValue))
        let flags = q.map { $0 <= alpha }, flagged = flags.filter { $0 }.count
        let withProtein = calibrated.filter { $0.basis == .rnaAndProtein }.count
        var notes = ["\(flagged) of \(calibrated.count) cells flagged at q <= \(alpha) against \(referenceName)"
                     + (withProtein > 0 ? "; \(withProtein) scored on RNA + protein against the \(calibration.referenceCount.withProtein) reference cells with protein" : "")]
        var warnings: [String] = []
        // Benjamini-Hochberg flags k cells only if k of them have p <= alpha k / m; p is at least 1 / (n + 1).
        let n = referenceScores.count, needed = AnomalyCalibration.flaggableReferenceSize(alpha: alpha)
        let floorP = 1 / Double(n + 1), fewest = Int((floorP * Double(calibrated.count) / alpha).rounded(.up))
        let p = String(format: "%.2g", floorP)
        if n < needed {
            warnings.append("only \(n) reference cells (\(referenceName)): the smallest p-value is \(p), so no cell can be flagged at q <= \(alpha); "
                            + "the scores and p-values are written (train with a smaller --train-size, or give --reference, for a reference of at least \(needed) cells)")
        } else if flagged == 0 && fewest > 1 {
            notes.append("note: with \(n) reference cells the smallest p-value is \(p); "
                         + "no cell can be flagged unless at least \(fewest) cells score above every reference cell (a larger reference lowers this)")
        }
        return Result(queryScores: queryScores, referenceScores: referenceScores, calibrated: calibrated, qValues: q, flags: flags,
                      referenceCount: calibration.referenceCount, notes: notes, warnings: warnings)
    }

    static func name(ofBatch batch: String, in file: String) -> String { "batch \(batch) of \(file)" }
    static func name(ofEveryCellOf file: String) -> String { "every cell of \(file)" }
    static func name(ofHeldOut count: Int, from file: String) -> String { "the \(count) cells train held out, from \(file)" }

    /// Analytic residuals of the genes with counts in this file (the others have mu = 0 and no
    /// residual), averaged over all the model's genes so that scores compare across files.
    static func analyticScores(_ all: CSRMatrix, rows: [Int], topGenes: Int) throws -> [AnomalyScorer.CellScore] {
        let totals = all.columnSums(), expressed = totals.indices.filter { totals[$0] > 0 }
        let counts = try all.selectingColumns(expressed)
        let residuals = try PearsonResiduals(counts: counts, requireIntegers: false)
        var buffer = [Double](repeating: 0, count: counts.cols), full = [Double](repeating: 0, count: all.cols)
        return rows.map { r in
            buffer.withUnsafeMutableBufferPointer { residuals.fill(counts, rows: r..<(r + 1), into: $0) }
            for (k, j) in expressed.enumerated() { full[j] = buffer[k] }
            return AnomalyScorer.CellScore(rna: full.withUnsafeBufferPointer { ResidualSummary(residuals: $0, top: topGenes) }, protein: nil)
        }
    }
}
