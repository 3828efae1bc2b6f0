import CellWeaveCore

/// A modality beyond RNA in the model: an encoder giving its Gaussian expert of z, and a decoder
/// with its likelihood (DESIGN.md section 9). Surface protein's decoder is totalVI's mixture.
public final class ExpertModality<T: ModelScalar> {
    public let kind: ModalityKind
    public let encoder: Encoder<T>
    public let decoder: AnyModalityDecoder<T>

    /// `parts`: threads the decoder's likelihood pass is split into.
    public init(configuration c: ModelConfiguration, modality m: ModalityConfiguration, capacity: Int, decoderRows: Int, parts: Int = 1,
                generator: inout SeededGenerator) {
        kind = m.kind
        let prefix = m.kind.rawValue
        encoder = Encoder(configuration: c, inputs: m.features, name: prefix + ".encoder", capacity: capacity, generator: &generator)
        switch m.kind {
        case .protein:
            decoder = .protein(ProteinDecoder(configuration: c, proteins: m.features, batches: c.categoryCounts.first ?? 1,
                                              capacity: decoderRows, parts: parts, generator: &generator))
        case .rna, .atac, .other:
            preconditionFailure("no decoder for a further \(m.kind.rawValue) modality (RNA is the model's own; ATAC is not modelled yet)")
        }
    }

    public var parameters: [Parameter<T>] { encoder.parameters + decoder.base.parameters }
    public var batchNorms: [BatchNorm<T>] { encoder.batchNorms + decoder.base.batchNorms }
}
