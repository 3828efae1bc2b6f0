/// What a modality measures, as the model sees it (DESIGN.md section 9). Files name modalities
/// their own way (muon: `rna`, `prot`, `atac`; Cell Ranger: feature types); the kind is
/// recognised from either.
public enum ModalityKind: String, Codable, Sendable, CaseIterable {
    /// Gene expression counts.
    case rna
    /// Surface-protein counts (antibody-derived tags, Antibody Capture).
    case protein
    /// Chromatin accessibility peaks.
    case atac
    /// Any other feature type (CRISPR guides, custom): kept, not modelled.
    case other

    /// The kind of a Cell Ranger feature type.
    public init(featureType: String) {
        switch featureType {
        case "Gene Expression": self = .rna
        case "Antibody Capture": self = .protein
        case "Peaks": self = .atac
        default: self = .other
        }
    }

    /// The kind of a modality named as muon names them (or as CellWeave's option values do);
    /// nil for names that say nothing.
    public init?(modalityName name: String) {
        switch name.lowercased() {
        case "rna", "gex", "gene expression": self = .rna
        case "prot", "protein", "adt", "antibody capture", "cite": self = .protein
        case "atac", "peaks": self = .atac
        default: return nil
        }
    }

    /// The name muon gives the modality in `mod/`, and CellWeave writes.
    public var muonName: String {
        switch self {
        case .rna: return "rna"
        case .protein: return "prot"
        case .atac: return "atac"
        case .other: return "other"
        }
    }

    /// The feature type Cell Ranger writes for it.
    public var featureType: String? {
        switch self {
        case .rna: return "Gene Expression"
        case .protein: return "Antibody Capture"
        case .atac: return "Peaks"
        case .other: return nil
        }
    }
}
