import CellWeaveCore

/// Everything needed to continue training exactly where it stopped: weights, running statistics,
/// Adam's moments, the random stream, the history and the early-stopping counter.
public struct TrainingCheckpoint: Sendable {
    public struct State: Codable, Sendable, Equatable {
        public var optimizerSteps: Int
        public var generator: [UInt64]
        public var epochsWithoutImprovement: Int
        public var history: TrainingHistory
        public var options: TrainingOptions
        public var configuration: ModelConfiguration
    }

    public var tensors: [NamedTensor]
    public var state: State

    public init(tensors: [NamedTensor], state: State) {
        self.tensors = tensors
        self.state = state
    }
}
