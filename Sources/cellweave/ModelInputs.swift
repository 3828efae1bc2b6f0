import ArgumentParser
import CellWeaveCore
import CellWeaveModel

/// A file prepared for a trained model: its counts from where the model's came from (or as asked),
/// in the model's gene order (matched by id), and covariate codes in the model's numbering, with
/// categories the model has not seen appended after its own.
struct ModelInputs {
    let counts: CSRMatrix
    /// Per covariate key, each cell's category index (the model's first, new ones after).
    let codes: [[Int32]]
    /// Per key, the labels behind the codes: the model's categories, then new ones.
    let categories: [[String]]

    init(_ adata: AnnData, file: String, manifest: ModelManifest, source: String, knownCategories: [[String]]? = nil) throws {
        let (matrix, varTable) = try Self.countsMatrix(adata, source: source, file: file)
        counts = try matrix.toCSR().selectingColumns(try Self.modelColumns(manifest, in: varTable, file: file))
        var codes: [[Int32]] = [], categories: [[String]] = []
        for (k, covariate) in manifest.covariates.enumerated() {
            let coded = try CovariateColumns.labels(adata, key: covariate.key, file: file)
            var known = knownCategories?[k] ?? covariate.categories
            var index = Dictionary(uniqueKeysWithValues: known.enumerated().map { ($1, Int32($0)) })
            for label in coded.labels where index[label] == nil {
                index[label] = Int32(known.count)
                known.append(label)
            }
            codes.append(coded.codes.map { index[coded.labels[$0]]! })
            categories.append(known)
        }
        self.codes = codes
        self.categories = categories
    }

    /// Categories per key including new ones.
    var categoryCounts: [Int] { categories.map(\.count) }

    func trainingData(categoryCounts: [Int]? = nil) -> TrainingData {
        TrainingData(counts: counts, codes: codes, categoryCounts: categoryCounts ?? self.categoryCounts)
    }

    /// "raw/X" or "layers/NAME" for counts not in X; nil for X.
    static func sourceName(layer: String?, raw: Bool) -> String? { raw ? "raw/X" : layer.map { "layers/\($0)" } }

    static func countsMatrix(_ adata: AnnData, source: String, file: String) throws -> (AnnMatrix, DataFrame) {
        if source == "X" { return (adata.x, adata.varTable) }
        if source == "raw/X" {
            guard let r = adata.raw else { throw ValidationError("\(file): no raw/X, where the model's counts came from (use --layer)") }
            return (r.x, r.varTable)
        }
        let name = String(source.dropFirst("layers/".count))
        guard let m = adata.layer(name) else {
            throw ValidationError("\(file): no layer '\(name)', where the model's counts came from (use --layer or --raw)")
        }
        return (m, adata.varTable)
    }

    /// The column of each model gene in `varTable`, matched by gene id; a missing gene is an error.
    static func modelColumns(_ manifest: ModelManifest, in varTable: DataFrame, file: String) throws -> [Int] {
        var index: [String: Int] = [:]
        for (j, id) in CovariateColumns.geneIDs(varTable).enumerated() where index[id] == nil { index[id] = j }
        let missing = manifest.geneIDs.filter { index[$0] == nil }
        guard missing.isEmpty else { throw ModelError.missingGenes(file: file, missing: missing, total: manifest.geneIDs.count) }
        return manifest.geneIDs.map { index[$0]! }
    }
}
