import CellWeaveCore

/// A file prepared for a trained model: its counts from where the model's came from (or as asked),
/// in the model's gene order (matched by id), covariate codes in the model's numbering with
/// categories the model has not seen appended after its own, and the model's further modalities
/// (protein, features matched by name) for the cells that have them.
public struct ModelInputs {
    public let counts: CSRMatrix
    /// Per covariate key, each cell's category index (the model's first, new ones after).
    public let codes: [[Int32]]
    /// Per key, the labels behind the codes: the model's categories, then new ones.
    public let categories: [[String]]
    /// One per modality of the model beyond RNA, in the model's feature order; a cell the file
    /// gives none of it (or a file without it) lacks it.
    public let modalities: [ModalityCounts]

    /// `adata`: the RNA view (with the whole's obs); `whole`: the modalities around it, if any.
    public init(_ adata: AnnData, whole: MuData? = nil, file: String, manifest: ModelManifest, source: String,
                knownCategories: [[String]]? = nil) throws {
        let (matrix, varTable) = try Self.countsMatrix(adata, source: source, file: file)
        counts = try matrix.toCSR().selectingColumns(try Self.modelColumns(manifest, in: varTable, file: file))
        (codes, categories) = try Self.covariateCodes(adata.obs, manifest: manifest, file: file, knownCategories: knownCategories)
        modalities = try (manifest.modalities ?? []).map { m in
            guard let present = whole?.modality(m.kind) else {
                return ModalityCounts(kind: m.kind, counts: CSRMatrix(uncheckedRows: 0, cols: m.features.count, indptr: [0], indices: [], values: []),
                                      cells: [], totalCells: adata.nObs)
            }
            var position: [String: Int] = [:]
            for (j, name) in present.data.varTable.index.enumerated() where position[name] == nil { position[name] = j }
            let missing = m.features.filter { position[$0] == nil }
            guard missing.isEmpty else { throw ModelError.missingFeatures(file: file, modality: present.name, missing: missing, total: m.features.count) }
            let selected = try present.data.x.toCSR().selectingColumns(m.features.map { position[$0]! })
            return ModalityCounts(kind: m.kind, counts: selected, cells: present.cells, totalCells: adata.nObs)
        }
    }

    /// Categories per key including new ones.
    public var categoryCounts: [Int] { categories.map(\.count) }

    public func trainingData() -> TrainingData {
        var data = TrainingData(counts: counts, codes: codes, categoryCounts: categoryCounts)
        data.modalities = modalities
        return data
    }

    /// "raw/X" or "layers/NAME" for counts not in X; nil for X.
    /// Per covariate key of the model, each cell's category code and the labels behind them:
    /// `knownCategories` (default: the model's), then the new ones of `obs` in label order.
    public static func covariateCodes(_ obs: DataFrame, manifest: ModelManifest, file: String,
                                      knownCategories: [[String]]? = nil) throws -> (codes: [[Int32]], categories: [[String]]) {
        var codes: [[Int32]] = [], categories: [[String]] = []
        for (k, covariate) in manifest.covariates.enumerated() {
            let coded = try CovariateColumns.labels(obs: obs, key: covariate.key, file: file)
            var known = knownCategories?[k] ?? covariate.categories
            var index = Dictionary(uniqueKeysWithValues: known.enumerated().map { ($1, Int32($0)) })
            // The same number written another way (an integer column then, floats now: 1 and 1.0)
            // is the same batch, not a new one to map.
            var byValue: [Double: Int32] = [:]
            for (c, label) in known.enumerated() { if let v = Self.numberWritten(label), byValue[v] == nil { byValue[v] = Int32(c) } }
            for label in coded.labels where index[label] == nil {
                if let v = Self.numberWritten(label), let c = byValue[v] {
                    index[label] = c
                    continue
                }
                index[label] = Int32(known.count)
                known.append(label)
            }
            codes.append(coded.codes.map { index[coded.labels[$0]]! })
            categories.append(known)
        }
        return (codes, categories)
    }

    /// The value of a label a numeric column gives ("1" from integers, "1.0" from floats); nil for
    /// any other text ("01", "batch1"), which names a batch by its letters alone.
    static func numberWritten(_ label: String) -> Double? {
        guard let v = Double(label), v.isFinite else { return nil }
        return label == String(v) || (v == v.rounded() && abs(v) < 1e15 && label == String(Int64(v))) ? v : nil
    }

    public static func sourceName(layer: String?, raw: Bool) -> String? { raw ? "raw/X" : layer.map { "layers/\($0)" } }

    public static func countsMatrix(_ adata: AnnData, source: String, file: String) throws -> (AnnMatrix, DataFrame) {
        if source == "X" { return (adata.x, adata.varTable) }
        if source == "raw/X" {
            guard let r = adata.raw else { throw ModelError.missingCounts(file: file, source: source, hint: "use --layer") }
            return (r.x, r.varTable)
        }
        let name = String(source.dropFirst("layers/".count))
        guard let m = adata.layer(name) else { throw ModelError.missingCounts(file: file, source: source, hint: "use --layer or --raw") }
        return (m, adata.varTable)
    }

    /// The column of each model gene in `varTable`, matched by gene id; a missing gene is an error.
    public static func modelColumns(_ manifest: ModelManifest, in varTable: DataFrame, file: String) throws -> [Int] {
        var index: [String: Int] = [:]
        for (j, id) in CovariateColumns.geneIDs(varTable).enumerated() where index[id] == nil { index[id] = j }
        let missing = manifest.geneIDs.filter { index[$0] == nil }
        guard missing.isEmpty else { throw ModelError.missingGenes(file: file, missing: missing, total: manifest.geneIDs.count) }
        return manifest.geneIDs.map { index[$0]! }
    }
}
