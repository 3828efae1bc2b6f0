/// Data a preprocessing step cannot work on, with what to do about it.
public enum PreprocessError: Error, CustomStringConvertible, Equatable {
    case emptyCells(count: Int, first: Int)
    case emptyGenes(count: Int, first: Int)
    case tooFewCells(Int, needed: Int)
    case tooManyComponents(requested: Int, available: Int)
    case nonIntegerCounts(example: Float)
    case tooManyGenesRequested(Int, available: Int)

    public var description: String {
        switch self {
        case let .emptyCells(n, first):
            return "\(n) cells have no counts (the first is cell \(first)); remove them first, e.g. with cellweave qc"
        case let .emptyGenes(n, first):
            return "\(n) genes have no counts (the first is gene \(first)); remove them first, e.g. cellweave qc --min-cells-per-gene 1"
        case let .tooFewCells(n, needed):
            return "\(n) cells is too few: at least \(needed) are needed"
        case let .tooManyComponents(requested, available):
            return "\(requested) components requested, but the data has at most \(available)"
        case let .tooManyGenesRequested(n, available):
            return "\(n) top genes requested, but the data has \(available) genes"
        case let .nonIntegerCounts(example):
            return "the counts are not integers (e.g. \(example)): Pearson residuals need raw UMI counts (use --layer counts or --raw)"
        }
    }
}
