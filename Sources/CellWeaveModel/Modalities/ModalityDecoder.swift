import CellWeaveCore

/// The generative half of one modality (DESIGN.md section 9): from rows of the latent z, with
/// their cells' covariates, to the log-likelihood of that modality's counts, and back to z. The
/// model and its trainer see every modality through this seam.
public protocol ModalityDecoder<Scalar>: AnyObject {
    associatedtype Scalar: ModelScalar
    /// The modality's features (genes, proteins).
    var features: Int { get }
    var parameters: [Parameter<Scalar>] { get }
    /// Its batch norms, whose running statistics are state saved with the weights.
    var batchNorms: [BatchNorm<Scalar>] { get }
    /// d loss / d z of the rows of the last `reconstruct` that took gradients.
    var latentGradient: Buffer<Scalar> { get }

    /// Row i of z explains row i of `batch` (whose covariate codes are the row's cell's). Writes
    /// each row's log-likelihood and any KL term of the decoder's own latent variables (totalVI's
    /// protein background; zero for others). With a `lossScale`, accumulates into the parameters'
    /// gradients, and writes into `latentGradient`, the derivatives of
    /// lossScale * sum_i w_i (-logLikelihood_i + klWeight * extraKL_i), w_i the row weights (1 if nil).
    func reconstruct(_ z: UnsafePointer<Scalar>, batch: SparseBatch<Scalar>, training: Bool, lossScale: Scalar?,
                     rowWeights: UnsafePointer<Scalar>?, klWeight: Scalar, logLikelihood: UnsafeMutablePointer<Double>,
                     extraKL: UnsafeMutablePointer<Double>, generator: inout SeededGenerator)
}
