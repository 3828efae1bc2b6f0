/// Why training stopped without a usable model.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case nonFinite(epoch: Int, step: Int, what: String)
    case tooFewCells(cells: Int, needed: Int)
    case checkpointMismatch(String)
    case distributedModalities

    public var description: String {
        switch self {
        case let .nonFinite(epoch, step, what):
            return "training diverged: \(what) is not finite at epoch \(epoch), minibatch \(step); nothing was written. "
                + "Try a lower --lr, --gradient-clip, or check the input for non-count values"
        case let .tooFewCells(cells, needed):
            return "training needs at least \(needed) cells, found \(cells)"
        case let .checkpointMismatch(reason):
            return "the checkpoint does not match this run: \(reason)"
        case .distributedModalities:
            return "data-parallel training models RNA alone: train a model of several modalities with cellweave train"
        }
    }
}
