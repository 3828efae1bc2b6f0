import CellWeaveCore

/// Records in uns["cellweave"] which version and command produced a file.
enum Provenance {
    static func record(_ adata: inout AnnData, parameters: [(String, UnsValue)]) {
        adata.uns.removeAll { $0.name == "cellweave" }
        adata.uns.append(("cellweave", .dict([
            ("version", .string(CellWeaveCommand.version)),
            ("command", .strings(CommandLine.arguments.dropFirst().map { $0 })),
        ] + parameters)))
    }
}
