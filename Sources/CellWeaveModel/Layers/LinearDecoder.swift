import CellWeaveCore

/// LDVAE's decoder (Svensson et al. 2020; scvi-tools' LinearDecoderSCVI): gene logits are a linear
/// map of z plus a row per covariate category, batch-normalised, with no hidden layer and no bias
/// (the norm's shift is one). Each latent dimension's column of weights, scaled by the norm, is a
/// gene program: `loadings`. For zinb the zero-inflation logits are a second such map.
///
/// Batch norm couples the rows of a minibatch, so the whole output is computed in `forwardHidden`
/// and differentiated in `backward`; the per-part hooks of the likelihood pass have nothing to do.
public final class LinearDecoder<T: ModelScalar> {
    public let scaleHead: Linear<T>
    public let scaleNorm: BatchNorm<T>?
    public let dropoutHead: Linear<T>?
    public let dropoutNorm: BatchNorm<T>?
    public var logits: Buffer<T> { scaleOutput }
    public var dropoutLogits: Buffer<T>? { dropoutOutput }
    /// d loss / d z after backward.
    public let latentGradient: Buffer<T>
    private let scaleOutput: Buffer<T>
    private let dropoutOutput: Buffer<T>?

    public init(configuration c: ModelConfiguration, capacity: Int, parts: Int = 1, generator: inout SeededGenerator) {
        let normalized = c.normalization == .batch
        func head(_ name: String) -> (Linear<T>, BatchNorm<T>?) {
            (Linear(name: name, inputs: c.latent, outputs: c.genes, covariateCategories: c.totalCategories, bias: !normalized,
                    parts: parts, generator: &generator),
             normalized ? BatchNorm(name: name + ".batch_norm", features: c.genes, capacity: capacity, parts: parts) : nil)
        }
        (scaleHead, scaleNorm) = head("decoder.linear")
        if c.likelihood.hasDropout {
            let (linear, norm) = head("decoder.linear_dropout")
            dropoutHead = linear
            dropoutNorm = norm
            dropoutOutput = Buffer(count: capacity * c.genes)
        } else {
            dropoutHead = nil
            dropoutNorm = nil
            dropoutOutput = nil
        }
        scaleOutput = Buffer(count: capacity * c.genes)
        latentGradient = Buffer(count: capacity * c.latent)
    }

    public var parameters: [Parameter<T>] {
        scaleHead.parameters + (scaleNorm?.parameters ?? []) + (dropoutHead?.parameters ?? []) + (dropoutNorm?.parameters ?? [])
    }

    public var batchNorms: [BatchNorm<T>] { [scaleNorm, dropoutNorm].compactMap { $0 } }

    public func forward(_ z: UnsafePointer<T>, rows: Int, categories: UnsafePointer<Int32>?, keys: Int, training: Bool) {
        scaleHead.forward(z, rows: rows, categories: categories, keys: keys, into: scaleOutput.pointer)
        scaleNorm?.forward(scaleOutput.pointer, rows: rows, training: training)
        if let dropoutHead, let dropoutOutput {
            dropoutHead.forward(z, rows: rows, categories: categories, keys: keys, into: dropoutOutput.pointer)
            dropoutNorm?.forward(dropoutOutput.pointer, rows: rows, training: training)
        }
    }

    /// Every gradient from the logit gradients of all rows (overwritten: batch norm runs back in
    /// place); leaves d loss / d z in `latentGradient`.
    public func backward(_ z: UnsafePointer<T>, rows: Int, categories: UnsafePointer<Int32>?, keys: Int,
                         logitGradient: UnsafeMutablePointer<T>, dropoutGradient: UnsafeMutablePointer<T>?) {
        scaleNorm?.backward(logitGradient, rows: rows)
        scaleHead.backward(logitGradient, input: z, rows: rows, categories: categories, keys: keys, inputGradient: latentGradient.pointer)
        if let dropoutHead, let dropoutGradient {
            dropoutNorm?.backward(dropoutGradient, rows: rows)
            dropoutHead.accumulateGradients(dropoutGradient, input: z, rows: rows, categories: categories, keys: keys)
            dropoutHead.inputGradient(dropoutGradient, rows: rows, into: latentGradient.pointer, accumulate: true)
        }
    }

    /// Genes x latent, row-major: how much a unit of each latent dimension raises each gene's
    /// logit, at inference (the weights times the norm's scale over its running deviation, as
    /// scvi-tools' get_loadings). Covariate rows are not part of it.
    public func loadings() -> [T] {
        let genes = scaleHead.outputs, latent = scaleHead.inputs, w = scaleHead.weight.value.pointer
        var out = [T](repeating: 0, count: genes * latent)
        for g in 0..<genes {
            let factor = scaleNorm.map { $0.scale.value[g] / ($0.runningVariance[g] + $0.epsilon).squareRoot() } ?? 1
            for k in 0..<latent { out[g * latent + k] = w[k * genes + g] * factor }
        }
        return out
    }
}
