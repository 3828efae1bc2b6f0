import ArgumentParser
import CellWeaveCore

/// Which obsm embedding a graph or metric stage works on.
struct EmbeddingOption: ParsableArguments {
    @Option(help: "The obsm embedding to use (e.g. X_cellweave, X_pca).") var useRep = "X_cellweave"

    func embedding(of adata: AnnData, file: String) throws -> DenseMatrix { try Self.embedding(useRep, of: adata, file: file) }

    /// obsm `name` as a dense cells x dims matrix; an error naming the file and obsm path if it is
    /// absent or holds a value that is not finite.
    static func embedding(_ useRep: String, of adata: AnnData, file: String) throws -> DenseMatrix {
        guard let m = adata.obsm.first(where: { $0.name == useRep })?.matrix else {
            let present = adata.obsm.map(\.name).joined(separator: ", ")
            throw ValidationError("\(file): no obsm/\(useRep) (obsm holds: \(present.isEmpty ? "nothing" : present))")
        }
        let d: DenseMatrix
        switch m.layout {
        case let .dense(x): d = x
        case let .csr(s): d = s.toDense()
        case let .csc(s): d = s.toDense()
        }
        // Distances to a NaN row are NaN: the graph and every metric on it would be silently wrong.
        let bad = (0..<d.rows).filter { r in (0..<d.cols).contains { !d[r, $0].isFinite } }
        if let first = bad.first {
            throw ValidationError("\(file): obsm/\(useRep) has NaN or infinite values in \(bad.count) of \(d.rows) cells (e.g. '\(adata.obs.index[first])'); "
                                  + "a per-modality embedding (X_cellweave_protein) is NaN for the cells without that modality: use the joint X_cellweave, "
                                  + "or keep only the cells that have it")
        }
        return d
    }
}
