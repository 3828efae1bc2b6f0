/// Every epoch so far, and how training ended.
public struct TrainingHistory: Codable, Sendable, Equatable {
    public var epochs: [EpochRecord] = []
    public var stoppedEarly = false
    /// The epoch with the lowest validation ELBO (early stopping restores nothing: as scvi-tools,
    /// the last weights are kept).
    public var bestEpoch: Int?
    public var bestValidationELBO: Double?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case epochs
        case stoppedEarly = "stopped_early"
        case bestEpoch = "best_epoch"
        case bestValidationELBO = "best_elbo_validation"
    }
}
