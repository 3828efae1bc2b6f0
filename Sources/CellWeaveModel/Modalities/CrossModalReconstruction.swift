/// Which modalities' own ELBO terms (MVAE's single-modality terms) also reconstruct the other
/// modalities the cell has. An expert that must place cells lacking the others (RNA's: every cell
/// has RNA, some nothing else) has to predict them, so that such cells land where their type's
/// measured cells are. An expert that never stands alone (protein, measured beside RNA) gains
/// little from predicting RNA, and that prediction costs a pass of RNA's decoder per cell.
public enum CrossModalReconstruction: String, Codable, Sendable, CaseIterable {
    /// Every modality's own term reconstructs every modality the cell has.
    case all
    /// RNA's own term reconstructs every modality the cell has; the others' their own alone.
    case rna
    /// Each own term reconstructs its own modality (MVAE's marginal ELBOs).
    case none

    public init(from decoder: any Swift.Decoder) throws {
        let container = try decoder.singleValueContainer()
        // Models from before the choice stored a Bool (true: every modality).
        if let every = try? container.decode(Bool.self) {
            self = every ? .all : .none
            return
        }
        let name = try container.decode(String.self)
        guard let value = Self(rawValue: name) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "unknown cross-modal reconstruction '\(name)'")
        }
        self = value
    }

    /// The modalities (bit k) that modality k's own term reconstructs, of those the cell has.
    func reconstructed(byOwnTermOf k: Int, of cellModalities: UInt32) -> UInt32 {
        switch self {
        case .all: cellModalities
        case .rna: k == 0 ? cellModalities : 1 << k
        case .none: 1 << k
        }
    }

    /// Whether some modality's own term reconstructs the others (a decoder may then see a cell
    /// once per modality plus its joint term).
    var decodesAcrossModalities: Bool { self != .none }
}
