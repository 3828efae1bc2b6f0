import CellWeaveCore

/// A modality the model has beyond RNA: what it measures and how many features it has. Its
/// encoder and decoder take their shape from the model's configuration.
public struct ModalityConfiguration: Codable, Sendable, Equatable {
    public var kind: ModalityKind
    public var features: Int

    public init(kind: ModalityKind, features: Int) {
        self.kind = kind
        self.features = features
    }
}
