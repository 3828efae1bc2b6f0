/// Sums over a minibatch's cells: the reconstruction loss (-log p(x | z, s)) and the KL term.
public struct MinibatchLoss: Sendable, Equatable {
    public var reconstruction = 0.0
    public var kl = 0.0
    public var cells = 0

    public init() {}

    public static func += (lhs: inout MinibatchLoss, rhs: MinibatchLoss) {
        lhs.reconstruction += rhs.reconstruction
        lhs.kl += rhs.kl
        lhs.cells += rhs.cells
    }

    /// The negative ELBO per cell (KL at full weight).
    public var elbo: Double { cells == 0 ? .nan : (reconstruction + kl) / Double(cells) }
}
