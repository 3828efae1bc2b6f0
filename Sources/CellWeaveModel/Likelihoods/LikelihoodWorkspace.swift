/// Scratch space of the fused likelihood pass: per part (thread) rows of proportions, of
/// d log p / d mu, of log(theta + mu) and a scratch row, and its own dispersion-gradient accumulator (summed in part order afterwards, so
/// the result depends on the part count only); per dispersion row theta, lgamma(theta), digamma(theta).
public final class LikelihoodWorkspace<T: ModelScalar> {
    public let genes: Int
    public let parts: Int
    public let dispersionRows: Int
    let proportions: Buffer<T>
    let meanGradient: Buffer<T>
    let scratch: Buffer<T>
    let logThetaPlusMean: Buffer<T>
    let partialLogThetaGradient: Buffer<T>
    let theta: Buffer<T>
    let logGammaTheta: Buffer<Double>
    let digammaTheta: Buffer<Double>

    public init(genes: Int, dispersionRows: Int, parts: Int) {
        self.genes = genes
        self.parts = max(parts, 1)
        self.dispersionRows = dispersionRows
        proportions = Buffer(count: self.parts * genes)
        meanGradient = Buffer(count: self.parts * genes)
        scratch = Buffer(count: self.parts * genes)
        logThetaPlusMean = Buffer(count: self.parts * genes)
        partialLogThetaGradient = Buffer(count: self.parts * dispersionRows * genes)
        theta = Buffer(count: dispersionRows * genes)
        logGammaTheta = Buffer(count: dispersionRows * genes)
        digammaTheta = Buffer(count: dispersionRows * genes)
    }
}
