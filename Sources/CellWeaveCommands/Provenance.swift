import CellWeaveCore

/// Records in uns["cellweave"] which version and command produced a file.
enum Provenance {
    static func record(_ adata: inout AnnData, parameters: [(String, UnsValue)]) {
        record(&adata.uns, parameters: parameters)
    }

    static func record(_ uns: inout [(name: String, value: UnsValue)], parameters: [(String, UnsValue)]) {
        uns.removeAll { $0.name == "cellweave" }
        uns.append(("cellweave", .dict([
            ("version", .string(CellWeaveCommand.version)),
            ("command", .strings(CommandLine.arguments.dropFirst().map { $0 })),
        ] + parameters)))
    }
}
