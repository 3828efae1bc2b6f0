/// One epoch of the training history (JSON): per-cell means over the training cells, the
/// validation ELBO when cells are held out, and the epoch's wall time.
public struct EpochRecord: Codable, Sendable, Equatable {
    public var epoch: Int
    /// reconstruction + klWeight * KL, the optimised loss.
    public var loss: Double
    public var reconstruction: Double
    public var kl: Double
    public var klWeight: Double
    public var validationELBO: Double?
    public var validationReconstruction: Double?
    public var seconds: Double
    /// Wall seconds in gathering minibatches, the forward/backward pass and Adam.
    public var phaseSeconds: [String: Double]

    enum CodingKeys: String, CodingKey {
        case epoch, loss, reconstruction, kl
        case klWeight = "kl_weight"
        case validationELBO = "elbo_validation"
        case validationReconstruction = "reconstruction_validation"
        case seconds
        case phaseSeconds = "phase_seconds"
    }
}
