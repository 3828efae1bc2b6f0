import CellWeaveCore

/// How k nearest neighbours are found: exactly (BLAS distance blocks, quadratic in the cells) or
/// approximately (NN-descent); `auto` is exact up to `exactLimit` cells.
public enum NeighborSearch: String, Sendable, CaseIterable {
    case auto, exact, approximate

    /// Where `auto` switches: exact search of 50,000 cells takes seconds; beyond, it grows quadratic.
    public static let exactLimit = 50_000

    public func neighbors(_ embedding: DenseMatrix, k: Int, threads: Int, seed: UInt64 = 0) -> NearestNeighbors {
        switch self {
        case .exact: return NearestNeighbors.exact(embedding, k: k, threads: threads)
        case .approximate:
            var descent = NearestNeighborDescent()
            descent.seed = seed
            return descent.search(embedding, k: k)
        case .auto: return (embedding.rows <= Self.exactLimit ? Self.exact : .approximate).neighbors(embedding, k: k, threads: threads, seed: seed)
        }
    }
}
