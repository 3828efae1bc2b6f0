import CVectorMath
import CellWeaveCore
import RealModule

/// Surface protein's decoder with totalVI's likelihood (Gayoso et al. 2021): each protein count is
/// a mixture of a background and a foreground negative binomial with one inverse dispersion per
/// protein. Per cell and protein the decoder gives the background's log mean as a Gaussian
/// N(alpha, beta^2) (sampled, with a KL to a learned per-protein, per-batch prior), a foreground
/// scale s >= 1 (foreground mean = background mean * s) and the logit of the mixing probability
/// of background. Three hidden layers on z with the covariates injected (background, foreground,
/// mixing), each followed by its heads on [hidden, z], as totalVI's DecoderTOTALVI.
public final class ProteinDecoder<T: ModelScalar>: ModalityDecoder {
    public let features: Int
    public let latent: Int
    public let hiddenUnits: Int
    public let background: HiddenLayer<T>
    public let foreground: HiddenLayer<T>
    public let mixing: HiddenLayer<T>
    public let backgroundMean: Linear<T>
    public let backgroundScale: Linear<T>
    public let foregroundScale: Linear<T>
    public let mixingLogit: Linear<T>
    /// log theta per protein (totalVI's py_r).
    public let logTheta: Parameter<T>
    /// The background prior, batches x proteins: mean and log standard deviation of the log
    /// background mean (totalVI's background_pro_alpha and background_pro_log_beta).
    public let priorMean: Parameter<T>
    public let priorLogScale: Parameter<T>
    public let latentGradient: Buffer<T>
    /// Outputs of the last forward pass, rows x proteins.
    public let alpha: Buffer<T>
    public let scalePreactivation: Buffer<T>
    public let foregroundPreactivation: Buffer<T>
    public let mixingLogits: Buffer<T>
    private let epsilon: Buffer<T>
    private let noise: GaussianNoise
    private let headInputs: [Buffer<T>]
    private let headInputGradients: [Buffer<T>]
    private let outputGradients: [Buffer<T>]
    /// Per hidden layer: d loss / d its output, and / d z through it.
    private let hiddenGradients: [Buffer<T>]
    private let latentGradients: [Buffer<T>]
    /// Per part of the rows: the row's counts, dense, and the gradients of the per-protein
    /// parameters (log theta, then the prior's mean and log scale), summed in part order after
    /// the pass so that the result depends on the part count only.
    private let counts: Buffer<T>
    private let partGradients: Buffer<T>
    /// Per part, for the C kernel: the row's gamma terms and its KL; digamma differences and scratch.
    private let gammaTerms: Buffer<Double>
    private let kernelScratch: Buffer<T>
    public let parts: Int
    private let theta: Buffer<T>
    private let logGammaTheta: Buffer<Double>
    private let digammaTheta: Buffer<Double>
    private let hiddenLayers: [HiddenLayer<T>]
    private let heads: [Linear<T>]
    private let headOutputs: [Buffer<T>]
    static var betaFloor: T { 1e-8 }
    /// totalVI's small push of every protein towards background: 1e-3 * -log sigmoid(mixing logit).
    static var backgroundPreference: T { 1e-3 }

    public init(configuration c: ModelConfiguration, proteins: Int, batches: Int, capacity: Int, parts: Int = 1,
                generator: inout SeededGenerator) {
        features = proteins
        self.parts = max(parts, 1)
        latent = c.latent
        hiddenUnits = c.hidden
        let k = c.totalCategories, width = c.hidden + c.latent
        func hidden(_ name: String) -> HiddenLayer<T> {
            HiddenLayer(name: "protein.\(name)", inputs: c.latent, outputs: c.hidden, covariateCategories: k, normalization: c.normalization,
                        dropoutRate: 0, capacity: capacity, generator: &generator)
        }
        func head(_ name: String) -> Linear<T> {
            Linear(name: "protein.\(name)", inputs: width, outputs: proteins, covariateCategories: k, generator: &generator)
        }
        background = hidden("background")
        foreground = hidden("foreground")
        mixing = hidden("mixing")
        backgroundMean = head("background_mean")
        backgroundScale = head("background_scale")
        foregroundScale = head("foreground_scale")
        mixingLogit = head("mixing_logit")
        logTheta = Parameter(name: "protein.log_theta", shape: [proteins],
                             initial: (0..<proteins).map { _ in T(2 * Double(generator.nextUniformFloat())) })
        priorMean = Parameter(name: "protein.prior_mean", shape: [batches, proteins], initial: Array(repeating: 3, count: batches * proteins))
        priorLogScale = Parameter(name: "protein.prior_log_scale", shape: [batches, proteins], initial: Array(repeating: 0, count: batches * proteins))
        latentGradient = Buffer(count: capacity * c.latent)
        alpha = Buffer(count: capacity * proteins)
        scalePreactivation = Buffer(count: capacity * proteins)
        foregroundPreactivation = Buffer(count: capacity * proteins)
        mixingLogits = Buffer(count: capacity * proteins)
        epsilon = Buffer(count: capacity * proteins)
        noise = GaussianNoise(capacity: capacity * proteins, parts: self.parts)
        headInputs = (0..<3).map { _ in Buffer(count: capacity * width) }
        headInputGradients = (0..<3).map { _ in Buffer(count: capacity * width) }
        outputGradients = (0..<4).map { _ in Buffer(count: capacity * proteins) }
        hiddenGradients = (0..<3).map { _ in Buffer(count: capacity * c.hidden) }
        latentGradients = (0..<3).map { _ in Buffer(count: capacity * c.latent) }
        counts = Buffer(count: self.parts * proteins)
        gammaTerms = Buffer(count: self.parts * (proteins + 1))
        kernelScratch = Buffer(count: self.parts * 3 * proteins)
        partGradients = Buffer(count: self.parts * proteins * (1 + 2 * batches))
        theta = Buffer(count: proteins)
        logGammaTheta = Buffer(count: proteins)
        digammaTheta = Buffer(count: proteins)
        hiddenLayers = [background, foreground, mixing]
        heads = [backgroundMean, backgroundScale, foregroundScale, mixingLogit]
        headOutputs = [alpha, scalePreactivation, foregroundPreactivation, mixingLogits]
    }

    /// Which hidden layer feeds each head.
    private let headGroup = [0, 0, 1, 2]

    /// Runs body(g) for the three groups (a hidden layer and its heads), which share no buffer
    /// or parameter, in parallel: on two threads the background's (two heads) on one, the
    /// foreground's and the mixing's on the other. Their gemms are small enough that one thread
    /// each beats splitting every product. Serially when batch statistics are summed across
    /// processes (a collective must not be entered from two threads).
    private func forEachGroup(_ body: (Int) -> Void) {
        let pieces = hiddenLayers.contains { $0.batchNorm?.processGroup != nil } ? 1 : min(parts, 3)
        let owner = pieces == 3 ? [0, 1, 2] : pieces == 2 ? [0, 1, 1] : [0, 0, 0]
        ParallelLoop.run(parts: pieces) { part in
            for g in 0..<3 where owner[g] == part { body(g) }
        }
    }

    public var parameters: [Parameter<T>] {
        hiddenLayers.flatMap(\.parameters) + heads.flatMap(\.parameters) + [logTheta, priorMean, priorLogScale]
    }

    public var batchNorms: [BatchNorm<T>] { hiddenLayers.compactMap(\.batchNorm) }

    /// The hidden layers and heads for `rows` rows of z (inference mode when not `training`).
    public func forward(_ z: UnsafePointer<T>, rows: Int, categories: UnsafePointer<Int32>?, keys: Int, training: Bool,
                        generator: inout SeededGenerator) {
        let d = latent, h = hiddenUnits, width = h + d
        forEachGroup { g in
            // No dropout in these layers: the generator is not drawn from.
            var unused = SeededGenerator(seed: 0)
            let layer = hiddenLayers[g]
            layer.forward(.dense(z), rows: rows, categories: categories, keys: keys, training: training, generator: &unused)
            let input = headInputs[g].pointer, out = layer.output.pointer
            for i in 0..<rows {
                (input + i * width).update(from: out + i * h, count: h)
                (input + i * width + h).update(from: z + i * d, count: d)
            }
            for k in heads.indices where headGroup[k] == g {
                heads[k].forward(UnsafePointer(input), rows: rows, categories: categories, keys: keys, into: headOutputs[k].pointer, parts: 1)
            }
        }
    }

    public func reconstruct(_ z: UnsafePointer<T>, batch: SparseBatch<T>, training: Bool, lossScale: T?,
                            rowWeights: UnsafePointer<T>?, klWeight: T, logLikelihood: UnsafeMutablePointer<Double>,
                            extraKL: UnsafeMutablePointer<Double>, generator: inout SeededGenerator) {
        let rows = batch.rows, keys = batch.covariateKeys, p = features
        precondition(keys > 0, "the protein decoder needs the batch covariate (its background prior is per batch)")
        for j in 0..<p {
            let t = T.exp(logTheta.value[j])
            theta[j] = t
            logGammaTheta[j] = Double.logGamma(Double(t))
            digammaTheta[j] = SpecialFunctions.digamma(Double(t))
        }
        noise.fill(epsilon.pointer, count: rows * p, generator: &generator)
        batch.categories.withUnsafeBufferPointer { codes in
            let categories = codes.baseAddress!
            forward(z, rows: rows, categories: categories, keys: keys, training: training, generator: &generator)
            let pieces = rows >= 4 * parts ? parts : 1, perPart = features * (1 + 2 * priorMean.shape[0])
            if lossScale != nil { partGradients.pointer.update(repeating: 0, count: pieces * perPart) }
            ParallelLoop.run(parts: pieces) { part in
                for i in ParallelLoop.range(part, of: pieces, rows) {
                    let weight = lossScale.map { $0 * (rowWeights?[i] ?? 1) }
                    (logLikelihood[i], extraKL[i]) = row(i, batch: batch, batchCode: Int(categories[i * keys]), klWeight: klWeight, scale: weight,
                                                         part: part, gradients: partGradients.pointer + part * perPart)
                }
            }
            if lossScale != nil {
                for part in 0..<pieces {
                    let source = partGradients.pointer + part * perPart
                    for j in 0..<features { logTheta.gradient[j] += source[j] }
                    for k in 0..<priorMean.count { priorMean.gradient[k] += source[features + k] }
                    for k in 0..<priorLogScale.count { priorLogScale.gradient[k] += source[features + priorMean.count + k] }
                }
                backward(z, rows: rows, categories: categories, keys: keys)
            }
        }
    }

    /// One row's log-likelihood and KL (background plus the preference for background); with a
    /// scale, the gradients of scale * (-loglik + klWeight * KL) into the output gradients and into
    /// `gradients` for the per-protein parameters (log theta, prior mean, prior log scale).
    /// Float goes through the C kernel (`cw_protein_row`), Double (the gradient checks) through Swift.
    private func row(_ i: Int, batch: SparseBatch<T>, batchCode b: Int, klWeight kw: T, scale: T?, part: Int,
                     gradients: UnsafeMutablePointer<T>) -> (Double, Double) {
        let p = features, o = i * p, counts = counts.pointer + part * p
        let dLogTheta = gradients, dPriorMean = gradients + p, dPriorLogScale = dPriorMean + priorMean.count
        for j in 0..<p { counts[j] = 0 }
        for k in batch.rowStart[i]..<batch.rowStart[i + 1] { counts[Int(batch.genes[k])] = batch.counts[k] }
        if T.self == Float.self {
            let terms = gammaTerms.pointer + part * (p + 1), psi = kernelScratch.pointer + part * 3 * p
            for j in 0..<p {
                let y = counts[j]
                guard y != 0 else { (terms[j], psi[j]) = (0, 0); continue }
                let (ratio, difference) = CountLikelihood.gammaDifferences(Double(y), theta: Double(theta[j]), logTheta: Double(logTheta.value[j]),
                                                                           logGammaTheta: logGammaTheta[j], digammaTheta: digammaTheta[j])
                (terms[j], psi[j]) = (ratio - CountTables.logFactorial(Float(y)), T(difference))
            }
            let f = T.float as (UnsafeMutablePointer<T>) -> UnsafeMutablePointer<Float>
            var arguments = cw_protein_row_arguments(
                proteins: p, counts: f(counts), alpha: f(alpha.pointer + o), scalePreactivation: f(scalePreactivation.pointer + o),
                foregroundPreactivation: f(foregroundPreactivation.pointer + o), mixingLogits: f(mixingLogits.pointer + o),
                epsilon: f(epsilon.pointer + o), theta: f(theta.pointer), logTheta: f(logTheta.value.pointer), digammaDifferences: f(psi),
                priorMean: f(priorMean.value.pointer + b * p), priorLogScale: f(priorLogScale.value.pointer + b * p), gammaTerms: terms,
                betaFloor: Float(Self.betaFloor), backgroundPreference: Float(Self.backgroundPreference), klWeight: Float(kw),
                scale: Float(scale ?? 0), dAlpha: f(outputGradients[0].pointer + o), dScale: f(outputGradients[1].pointer + o),
                dForeground: f(outputGradients[2].pointer + o), dMixing: f(outputGradients[3].pointer + o), dLogTheta: f(dLogTheta),
                dPriorMean: f(dPriorMean + b * p), dPriorLogScale: f(dPriorLogScale + b * p), scratch: f(psi + p), kl: terms + p)
            return (cw_protein_row(&arguments), terms[p])
        }
        let dAlpha = outputGradients[0].pointer + o, dScale = outputGradients[1].pointer + o
        let dForeground = outputGradients[2].pointer + o, dMixing = outputGradients[3].pointer + o
        var logLikelihood = 0.0, kl = 0.0
        for j in 0..<p {
            let y = counts[j], a = alpha[o + j], bp = scalePreactivation[o + j], e = epsilon[o + j]
            let beta = CountLikelihood.softplus(bp) + Self.betaFloor, logBackground = a + beta * e, mu1 = T.exp(logBackground)
            let fp = foregroundPreactivation[o + j], s = max(fp, 0) + 1 + Self.betaFloor, mu2 = mu1 * s
            let m = mixingLogits[o + j], t = theta[j], lt = logTheta.value[j]
            let l1 = T.log(t + mu1), l2 = T.log(t + mu2)
            // The terms both components share (lgamma(y + theta) - lgamma(theta) - log y!) stay outside the mixture;
            // at a zero count both differences are exactly 0 (the same functions of the same theta).
            let (gammaRatio, digammaDifference) = y == 0 ? (0, 0)
                : CountLikelihood.gammaDifferences(Double(y), theta: Double(t), logTheta: Double(lt),
                                                   logGammaTheta: logGammaTheta[j], digammaTheta: digammaTheta[j])
            let a1 = t * (lt - l1) + y * (logBackground - l1)
            let a2 = t * (lt - l2) + y * (logBackground + T.log(s) - l2) - m
            let top = max(a1, a2), total = top + T.log(T.exp(a1 - top) + T.exp(a2 - top))
            let r1 = T.exp(a1 - total), r2 = T.exp(a2 - total)
            logLikelihood += gammaRatio - CountTables.logFactorial(Float(y)) + Double(total - CountLikelihood.softplus(-m))
            let pm = priorMean.value[b * p + j], pls = priorLogScale.value[b * p + j], ps = T.exp(pls)
            let deviation = a - pm, ratio = (beta * beta + deviation * deviation) / (ps * ps)
            kl += Double(pls - T.log(beta) + ratio / 2 - 0.5 + Self.backgroundPreference * CountLikelihood.softplus(-m))
            guard let c = scale else { continue }
            // d loglik / d log mu of each component, and the mixture's responsibilities.
            let g1 = t * (y - mu1) / (t + mu1), g2 = t * (y - mu2) / (t + mu2)
            let dLogBackground = -(r1 * g1 + r2 * g2)
            let dS = -r2 * g2 / s
            dForeground[j] = c * (fp > 0 ? dS : 0)
            let sm = CountLikelihood.sigmoid(m)
            dMixing[j] = c * (sm - r1 - kw * Self.backgroundPreference * (1 - sm))
            let z2 = deviation / (ps * ps)
            dAlpha[j] = c * (dLogBackground + kw * z2)
            dScale[j] = c * (dLogBackground * e + kw * (beta / (ps * ps) - 1 / beta)) * CountLikelihood.sigmoid(bp)
            dPriorMean[b * p + j] -= c * kw * z2
            dPriorLogScale[b * p + j] += c * kw * (1 - ratio)
            let psi = T(digammaDifference)
            let dTheta1 = lt + 1 - l1 - (t + y) / (t + mu1) + psi, dTheta2 = lt + 1 - l2 - (t + y) / (t + mu2) + psi
            dLogTheta[j] -= c * t * (r1 * dTheta1 + r2 * dTheta2)
        }
        return (logLikelihood, kl)
    }

    /// The heads' and hidden layers' gradients from the output gradients; d loss / d z into latentGradient.
    private func backward(_ z: UnsafePointer<T>, rows: Int, categories: UnsafePointer<Int32>, keys: Int) {
        let d = latent, h = hiddenUnits, width = h + d
        forEachGroup { g in
            let dInput = headInputGradients[g].pointer, input = UnsafePointer(headInputs[g].pointer)
            dInput.update(repeating: 0, count: rows * width)
            for k in heads.indices where headGroup[k] == g {
                let dy = UnsafePointer(outputGradients[k].pointer)
                heads[k].accumulateGradients(dy, input: input, rows: rows, categories: categories, keys: keys)
                heads[k].inputGradient(dy, rows: rows, into: dInput, accumulate: true, parts: 1)
            }
            let dHidden = hiddenGradients[g].pointer
            for i in 0..<rows { (dHidden + i * h).update(from: dInput + i * width, count: h) }
            hiddenLayers[g].backward(dHidden, input: .dense(z), rows: rows, categories: categories, keys: keys,
                                     inputGradient: latentGradients[g].pointer)
        }
        // d loss / d z summed over the groups in their order, the heads' share before the layer's.
        let dz = latentGradient.pointer
        dz.update(repeating: 0, count: rows * d)
        for g in 0..<3 {
            let dInput = headInputGradients[g].pointer, through = latentGradients[g].pointer
            for i in 0..<rows { for k in 0..<d { dz[i * d + k] += dInput[i * width + h + k] } }
            for k in 0..<(rows * d) { dz[k] += through[k] }
        }
    }

    /// Denoised protein expression of the last forward pass (totalVI's normalized expression):
    /// the foreground mean, times the probability of foreground; and that probability. Row i,
    /// protein j at i * proteins + j. The foreground mean is s times the background's, whose log
    /// is N(alpha, beta^2): exp(alpha + beta^2 / 2), what totalVI's average over samples of the
    /// background estimates (exp(alpha) alone is its median, low by a factor that varies by cell).
    public func foregroundExpression(rows: Int, into expression: UnsafeMutablePointer<T>, probability: UnsafeMutablePointer<T>) {
        for k in 0..<(rows * features) {
            let beta = CountLikelihood.softplus(scalePreactivation[k]) + Self.betaFloor
            let s = max(foregroundPreactivation[k], 0) + 1 + Self.betaFloor
            let foreground = 1 - CountLikelihood.sigmoid(mixingLogits[k])
            probability[k] = foreground
            expression[k] = T.exp(alpha[k] + beta * beta / 2) * s * foreground
        }
    }

    /// Sets the background prior (totalVI's empirical initialisation): per batch, the mean and
    /// standard deviation of the log background, the same for every protein.
    public func setBackgroundPrior(mean: [Double], scale: [Double]) {
        let p = features
        for b in 0..<min(mean.count, priorMean.shape[0]) {
            for j in 0..<p {
                priorMean.value[b * p + j] = T(mean[b])
                priorLogScale.value[b * p + j] = T(Double.log(max(scale[b], 1e-6)))
            }
        }
    }

}
