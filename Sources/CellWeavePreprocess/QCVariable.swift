/// A named gene set whose share of each cell's counts is a QC metric (scanpy's `qc_vars`):
/// mitochondrial genes (dying cells leak cytoplasmic RNA), ribosomal genes.
public struct QCVariable: Sendable, Equatable {
    public var name: String
    /// Gene-name prefixes, matched case-sensitively as given (list both "MT-" and "mt-").
    public var prefixes: [String]

    public init(name: String, prefixes: [String]) {
        self.name = name
        self.prefixes = prefixes
    }

    public static let mitochondrial = QCVariable(name: "mt", prefixes: ["MT-", "mt-"])
    public static let ribosomal = QCVariable(name: "ribo", prefixes: ["RPS", "RPL", "Rps", "Rpl"])

    public func matches(_ gene: String) -> Bool { prefixes.contains { gene.hasPrefix($0) } }
}
