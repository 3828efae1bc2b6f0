import ArgumentParser
import CellWeaveCore

/// Which obsm embedding a graph or metric stage works on.
struct EmbeddingOption: ParsableArguments {
    @Option(help: "The obsm embedding to use (e.g. X_cellweave, X_pca).") var useRep = "X_cellweave"

    func embedding(of adata: AnnData, file: String) throws -> DenseMatrix { try Self.embedding(useRep, of: adata, file: file) }

    /// obsm `name` as a dense cells x dims matrix; an error naming the file and obsm path if absent.
    static func embedding(_ useRep: String, of adata: AnnData, file: String) throws -> DenseMatrix {
        guard let m = adata.obsm.first(where: { $0.name == useRep })?.matrix else {
            let present = adata.obsm.map(\.name).joined(separator: ", ")
            throw ValidationError("\(file): no obsm/\(useRep) (obsm holds: \(present.isEmpty ? "nothing" : present))")
        }
        switch m.layout {
        case let .dense(d): return d
        case let .csr(s): return s.toDense()
        case let .csc(s): return s.toDense()
        }
    }
}
