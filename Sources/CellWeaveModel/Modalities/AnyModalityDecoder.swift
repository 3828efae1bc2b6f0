import CellWeaveCore

/// A modality's decoder, one case per decoder type CellWeave has. The model calls decoders
/// through this rather than through `any ModalityDecoder`: a protocol existential would reach the
/// generic code unspecialised (each arithmetic operation a witness-table call, several times
/// slower), a switch over concrete types stays specialised. A new decoder is a new type
/// conforming to `ModalityDecoder` and a case here.
public enum AnyModalityDecoder<T: ModelScalar> {
    case geneExpression(GeneExpressionDecoder<T>)
    case protein(ProteinDecoder<T>)

    public var base: any ModalityDecoder<T> {
        switch self {
        case let .geneExpression(d): return d
        case let .protein(d): return d
        }
    }

    public var protein: ProteinDecoder<T>? { if case let .protein(d) = self { return d } else { return nil } }

    @inline(__always)
    public var latentGradient: Buffer<T> {
        switch self {
        case let .geneExpression(d): return d.latentGradient
        case let .protein(d): return d.latentGradient
        }
    }

    @inline(__always)
    public func reconstruct(_ z: UnsafePointer<T>, batch: SparseBatch<T>, training: Bool, lossScale: T?, rowWeights: UnsafePointer<T>?,
                            klWeight: T, logLikelihood: UnsafeMutablePointer<Double>, extraKL: UnsafeMutablePointer<Double>,
                            generator: inout SeededGenerator) {
        switch self {
        case let .geneExpression(d):
            d.reconstruct(z, batch: batch, training: training, lossScale: lossScale, rowWeights: rowWeights, klWeight: klWeight,
                          logLikelihood: logLikelihood, extraKL: extraKL, generator: &generator)
        case let .protein(d):
            d.reconstruct(z, batch: batch, training: training, lossScale: lossScale, rowWeights: rowWeights, klWeight: klWeight,
                          logLikelihood: logLikelihood, extraKL: extraKL, generator: &generator)
        }
    }
}
