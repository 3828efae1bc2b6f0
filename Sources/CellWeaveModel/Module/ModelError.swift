/// A saved model that cannot be used as asked.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    case missingTensor(String)
    case tensorShape(String, expected: Int, found: Int)
    case missingGenes(file: String, missing: [String], total: Int)
    case unknownCategory(key: String, category: String, known: [String])
    case missingFeatures(file: String, modality: String, missing: [String], total: Int)
    case missingCounts(file: String, source: String, hint: String)

    public var description: String {
        switch self {
        case let .missingTensor(name): return "the model has no tensor \(name)"
        case let .tensorShape(name, expected, found): return "tensor \(name) holds \(found) values, the architecture needs \(expected)"
        case let .missingGenes(file, missing, total):
            let shown = missing.prefix(10).joined(separator: ", ")
            return "\(file): \(missing.count) of the model's \(total) genes are missing (matched by gene id): \(shown)\(missing.count > 10 ? ", ..." : "")"
        case let .missingFeatures(file, modality, missing, total):
            let shown = missing.prefix(10).joined(separator: ", ")
            return "\(file): \(missing.count) of the model's \(total) \(modality) features are missing (matched by name): \(shown)\(missing.count > 10 ? ", ..." : "")"
        case let .missingCounts(file, source, hint):
            return "\(file): no \(source), where the model's counts came from (\(hint))"
        case let .unknownCategory(key, category, known):
            return "obs '\(key)' has category '\(category)' that the model was not trained on (known: \(known.joined(separator: ", ")))"
        }
    }
}
