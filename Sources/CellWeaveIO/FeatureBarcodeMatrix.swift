import CellWeaveCore

/// A Cell Ranger feature-barcode matrix, oriented cells x features, with the feature table.
/// One matrix may hold several modalities (feature types): RNA, surface protein, peaks.
public struct FeatureBarcodeMatrix: Sendable {
    public var counts: CSRMatrix
    public var barcodes: [String]
    public var featureIDs: [String]
    public var featureNames: [String]
    public var featureTypes: [String]
    /// Per-feature genome, when the file records it (Cell Ranger .h5 v3).
    public var genomes: [String]?

    /// Feature types in order of first appearance.
    public var modalities: [String] {
        var seen = Set<String>()
        return featureTypes.filter { seen.insert($0).inserted }
    }

    /// Which features become the AnnData's var.
    public enum FeatureSelection: Equatable, Sendable {
        /// 'Gene Expression' when present, else everything (scanpy's gex_only).
        case geneExpression
        case all
        case modality(String)
    }

    public func annData(features: FeatureSelection = .geneExpression, makeVarNamesUnique: Bool = false, file: String) throws -> AnnData {
        let selected: [Int]
        switch features {
        case .all:
            selected = Array(featureTypes.indices)
        case .geneExpression:
            let gex = featureTypes.indices.filter { featureTypes[$0] == "Gene Expression" }
            selected = gex.isEmpty ? Array(featureTypes.indices) : gex
        case let .modality(name):
            selected = featureTypes.indices.filter { featureTypes[$0] == name }
            guard !selected.isEmpty else {
                throw InputError(.missingObject, file: file, .field("feature_type"),
                                 "no features of type '\(name)' (types present: \(modalities.joined(separator: ", ")))")
            }
        }
        let matrix = selected.count == featureTypes.count ? counts : try counts.selectingColumns(selected)
        var varTable = DataFrame(index: selected.map { featureNames[$0] })
        try varTable.setColumn("gene_ids", .strings(selected.map { featureIDs[$0] }))
        try varTable.setColumn("feature_types", .strings(selected.map { featureTypes[$0] }))
        if let genomes { try varTable.setColumn("genome", .strings(selected.map { genomes[$0] })) }
        if makeVarNamesUnique { varTable.makeIndexUnique() }
        return try AnnData(x: .csr(matrix), obs: DataFrame(index: barcodes), varTable: varTable)
    }
}

extension FeatureBarcodeMatrix {
    /// Every feature type as its own modality over all barcodes: Gene Expression as `rna`,
    /// Antibody Capture as `prot`, Peaks as `atac` (muon's names), any other type under its own
    /// name (lower case, spaces as underscores).
    public func muData(makeVarNamesUnique: Bool = false, file: String) throws -> MuData {
        let modalities = try self.modalities.map { type -> Modality in
            let kind = ModalityKind(featureType: type)
            let name = kind == .other ? String(type.lowercased().map { $0 == " " ? "_" : $0 }) : kind.muonName
            var data = try annData(features: .modality(type), makeVarNamesUnique: makeVarNamesUnique, file: file)
            data.obs = DataFrame(index: barcodes)
            return Modality(name: name, kind: kind, data: data, cells: Array(barcodes.indices))
        }
        return try MuData(obs: DataFrame(index: barcodes), modalities: modalities)
    }
}
