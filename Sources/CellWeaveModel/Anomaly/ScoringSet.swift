import CellWeaveCore

/// The cells an anomaly score is computed on and the reference cells it is calibrated against, as
/// one data set for the model (DESIGN.md section 5): the query file's cells first, then the
/// reference's when they come from another file.
public struct ScoringSet {
    public let data: TrainingData
    /// Per covariate key, the labels behind the codes (the model's, then new ones).
    public let categories: [[String]]
    public let queryRows: [Int]
    public let referenceRows: [Int]
    /// Whether the reference cells are among the query's (then `referenceRows` index its rows).
    public let referenceInQuery: Bool

    /// The reference among the query's own cells (e.g. one batch of it).
    public init(query: ModelInputs, referenceRows: [Int]) {
        data = query.trainingData()
        categories = query.categories
        queryRows = Array(0..<query.counts.rows)
        self.referenceRows = referenceRows
        referenceInQuery = true
    }

    /// Reference cells (`referenceRows` of `reference`, whose categories extend the query's) stacked
    /// under the query's. When the query brings categories the model has not seen, it is mapped
    /// first; each reference batch then becomes a new category too ("reference:" + its name), so
    /// that reference cells go through the same mapping as the query's and their scores stay
    /// exchangeable with them.
    public init(query: ModelInputs, reference: ModelInputs, referenceRows rows: [Int], modelCategoryCounts: [Int]) throws {
        var categories = reference.categories
        var codes = (0..<categories.count).map { k in query.codes[k] + reference.codes[k] }
        let offset = query.counts.rows
        referenceRows = rows.map { $0 + offset }
        queryRows = Array(0..<offset)
        referenceInQuery = false
        if query.categoryCounts != modelCategoryCounts {
            var pseudo: [Int32: Int32] = [:]
            for r in referenceRows {
                let b = codes[0][r]
                if pseudo[b] == nil {
                    pseudo[b] = Int32(categories[0].count)
                    categories[0].append("reference:" + categories[0][Int(b)])
                }
                codes[0][r] = pseudo[b]!
            }
        }
        var data = TrainingData(counts: try Self.stack(query.counts, reference.counts), codes: codes, categoryCounts: categories.map(\.count))
        data.modalities = try zip(query.modalities, reference.modalities).map { q, r in
            ModalityCounts(kind: q.kind, counts: try Self.stack(q.counts, r.counts), cells: q.cells + r.cells.map { $0 + offset },
                           totalCells: offset + reference.counts.rows)
        }
        self.data = data
        self.categories = categories
    }

    /// a's rows, then b's.
    static func stack(_ a: CSRMatrix, _ b: CSRMatrix) throws -> CSRMatrix {
        let offset = a.nnz
        return try CSRMatrix(rows: a.rows + b.rows, cols: a.cols, indptr: a.indptr + b.indptr.dropFirst().map { $0 + offset },
                             indices: a.indices + b.indices, values: a.values + b.values)
    }
}
