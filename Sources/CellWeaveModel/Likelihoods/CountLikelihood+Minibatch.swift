import CellWeaveCore
import RealModule

extension CountLikelihood {
    /// The reconstruction term of a minibatch in one fused pass per cell. Decoder logits (rows x
    /// genes) give proportions rho = softmax(logits) and means mu = library * rho. Every gene is
    /// first treated as a zero, then the cell's non-zeros are corrected, so the gamma functions run
    /// at non-zeros only. Writes each row's log-likelihood, and, scaled by `gradientScale`, its
    /// gradient with respect to the logits, the dropout logits (zinb) and log theta (accumulated).
    /// Rows are split into `workspace.parts` contiguous parts run in parallel; each part calls
    /// `beforeRows` and `afterRows` with its rows, so the decoder's products for those rows run in
    /// the same parallel pass, on data still in that core's cache. `rowWeights`, when given, scale
    /// each row's gradient (a row standing for two ELBO terms counts twice).
    public func minibatch<T: ModelScalar>(_ batch: SparseBatch<T>, logits: UnsafePointer<T>, dropoutLogits: UnsafePointer<T>?,
                                          logTheta: UnsafePointer<T>?, dispersion: DispersionKind, gradientScale: T,
                                          rowWeights: UnsafePointer<T>? = nil,
                                          logitGradient: UnsafeMutablePointer<T>?, dropoutGradient: UnsafeMutablePointer<T>?,
                                          logThetaGradient: UnsafeMutablePointer<T>?, rowLogLikelihood: UnsafeMutablePointer<Double>,
                                          workspace ws: LikelihoodWorkspace<T>,
                                          beforeRows: (Range<Int>) -> Void = { _ in }, afterRows: (Range<Int>) -> Void = { _ in }) {
        let g = ws.genes, rows = batch.rows
        if hasDispersion, let logTheta { ws.fill(logTheta: logTheta, batch: batch) }
        if logThetaGradient != nil { ws.partialLogThetaGradient.zero() }
        let parts = min(ws.parts, max(rows, 1))
        batch.rowStart.withUnsafeBufferPointer { start in
            batch.genes.withUnsafeBufferPointer { genes in
                batch.counts.withUnsafeBufferPointer { counts in
                    batch.logFactorials.withUnsafeBufferPointer { logFactorials in
                      batch.integerCounts.withUnsafeBufferPointer { integerCounts in
                        batch.library.withUnsafeBufferPointer { library in
                            batch.categories.withUnsafeBufferPointer { categories in
                                let part = { (p: Int) in
                                    let rho = ws.proportions.pointer + p * g, a = ws.meanGradient.pointer + p * g
                                    let scratch = ws.scratch.pointer + p * g, lt = ws.logThetaPlusMean.pointer + p * g
                                    let dLogTheta = ws.partialLogThetaGradient.pointer + p * ws.dispersionRows * g
                                    let range = ParallelLoop.range(p, of: parts, rows)
                                    beforeRows(range)
                                    for i in range {
                                        let d = dispersion == .gene ? 0 : Int(categories[i * batch.covariateKeys])
                                        let row = Row(logits: logits + i * g, dropoutLogits: dropoutLogits.map { $0 + i * g },
                                                      library: library[i], nonzeros: start[i]..<start[i + 1],
                                                      theta: ws.theta.pointer + d * g, logTheta: logTheta.map { $0 + d * g },
                                                      gammaTable: ws.gammaTable.pointer + d * g * ws.tableCounts,
                                                      digammaTable: ws.digammaTable.pointer + d * g * ws.tableCounts, tableCounts: ws.tableCounts,
                                                      logGammaTheta: ws.logGammaTheta.pointer + d * g,
                                                      digammaTheta: ws.digammaTheta.pointer + d * g,
                                                      logitGradient: logitGradient.map { $0 + i * g },
                                                      dropoutGradient: dropoutGradient.map { $0 + i * g },
                                                      logThetaGradient: logThetaGradient == nil ? nil : dLogTheta + d * g)
                                        rowLogLikelihood[i] = self.row(row, genes: g, geneIndex: genes, counts: counts, integerCounts: integerCounts,
                                                                       logFactorials: logFactorials,
                                                                       scale: rowWeights.map { gradientScale * $0[i] } ?? gradientScale,
                                                                       rho: rho, meanGradient: a, scratch: scratch, logThetaPlusMean: lt)
                                    }
                                    afterRows(range)
                                }
                                ParallelLoop.run(parts: parts, part)
                            }
                        }
                      }
                    }
                }
            }
        }
        if let logThetaGradient {
            let n = ws.dispersionRows * g
            for p in 0..<parts {
                let partial = ws.partialLogThetaGradient.pointer + p * n
                for k in 0..<n { logThetaGradient[k] += partial[k] }
            }
        }
    }

    /// Pointers into one cell's slice of the minibatch.
    struct Row<T: ModelScalar> {
        let logits: UnsafePointer<T>
        let dropoutLogits: UnsafePointer<T>?
        let library: T
        let nonzeros: Range<Int>
        let theta: UnsafePointer<T>
        let logTheta: UnsafePointer<T>?
        /// lgamma(x + theta) - lgamma(theta) and digamma(x + theta) - digamma(theta) of the row's
        /// genes for x = 1...tableCounts, at gene * tableCounts + x - 1 (`LikelihoodWorkspace`).
        let gammaTable: UnsafePointer<T>
        let digammaTable: UnsafePointer<T>
        let tableCounts: Int
        let logGammaTheta: UnsafePointer<Double>
        let digammaTheta: UnsafePointer<Double>
        let logitGradient: UnsafeMutablePointer<T>?
        let dropoutGradient: UnsafeMutablePointer<T>?
        let logThetaGradient: UnsafeMutablePointer<T>?
    }

    /// One cell's pass. Training's case, the negative binomial in Float, runs the same operations in C.
    private func row<T: ModelScalar>(_ r: Row<T>, genes g: Int, geneIndex: UnsafeBufferPointer<Int32>, counts: UnsafeBufferPointer<T>,
                                     integerCounts: UnsafeBufferPointer<Int32>,
                                     logFactorials: UnsafeBufferPointer<Double>, scale: T,
                                     rho: UnsafeMutablePointer<T>, meanGradient a: UnsafeMutablePointer<T>,
                                     scratch: UnsafeMutablePointer<T>, logThetaPlusMean: UnsafeMutablePointer<T>) -> Double {
        if self == .nb, T.self == Float.self {
            return Self.negativeBinomialRowInC(r, genes: g, geneIndex: geneIndex, counts: counts, integerCounts: integerCounts,
                                               logFactorials: logFactorials, scale: scale, rho: rho, meanGradient: a, scratch: scratch,
                                               logThetaPlusMean: logThetaPlusMean)
        }
        typealias V = SIMD8<T>
        let vectors = g / 8, tail = (8 * vectors)..<g
        func load(_ p: UnsafePointer<T>, _ v: Int) -> V { UnsafeRawPointer(p + 8 * v).loadUnaligned(as: V.self) }
        func store(_ x: V, _ p: UnsafeMutablePointer<T>, _ v: Int) { UnsafeMutableRawPointer(p + 8 * v).storeBytes(of: x, as: V.self) }
        // Softmax, shifted by the maximum for stability; exp over the whole row at once.
        var top = r.logits[0]
        for j in 1..<g where r.logits[j] > top { top = r.logits[j] }
        for j in 0..<g { scratch[j] = r.logits[j] - top }
        T.exp(scratch, into: rho, count: g)
        var sums = V.zero, sum: T = 0
        for v in 0..<vectors { sums += load(rho, v) }
        for j in tail { sum += rho[j] }
        sum += sums.sum()
        let inverseSum = 1 / sum, library = r.library
        // log mu_j = log library + logit_j - top - log sum: no logarithm per non-zero.
        let logMeanOffset = T.log(library) - top - T.log(sum)
        var total: T = 0
        let dLogTheta = r.logThetaGradient
        // d loglik / d mu times mu, summed with the proportions: the softmax's part of the logit
        // gradient. Accumulated over every gene as a zero here, corrected at the non-zeros below.
        var weighted: T = 0
        // Every gene as a zero.
        switch self {
        case .nb, .zinb:
            // Normalise the proportions and form theta + mu in one pass.
            let theta = r.theta
            for v in 0..<vectors {
                let p = load(rho, v) * inverseSum
                store(p, rho, v)
                store(load(theta, v) + library * p, scratch, v)
            }
            for j in tail { rho[j] *= inverseSum; scratch[j] = theta[j] + library * rho[j] }
            T.log(scratch, into: logThetaPlusMean, count: g)
        case .poisson:
            for j in 0..<g { rho[j] *= inverseSum }
        }
        switch self {
        case .nb:
            let logTheta = r.logTheta!, theta = r.theta
            // log p(0) = theta (log theta - log(theta + mu)); its derivatives in mu and log theta.
            var totals = V.zero, weights = V.zero
            let d = dLogTheta ?? scratch, writeTheta = dLogTheta != nil
            for v in 0..<vectors {
                let t = load(theta, v), lt = load(logThetaPlusMean, v), ratio = t / load(scratch, v), lth = load(logTheta, v)
                totals += t * (lth - lt)
                store(-ratio, a, v)
                weights -= load(rho, v) * ratio
                if writeTheta { store(load(d, v) + scale * t * (lth + 1 - lt - ratio), d, v) }
            }
            total += totals.sum()
            weighted += weights.sum()
            for j in tail {
                let t = r.theta[j], lt = logThetaPlusMean[j], ratio = t / scratch[j]
                total += t * (logTheta[j] - lt)
                a[j] = -ratio
                weighted -= rho[j] * ratio
                if let dLogTheta { dLogTheta[j] += scale * t * (logTheta[j] + 1 - lt - ratio) }
            }
        case .zinb:
            let logTheta = r.logTheta!, pi = r.dropoutLogits!
            for j in 0..<g {
                let t = r.theta[j], lt = logThetaPlusMean[j], inv = 1 / scratch[j]
                let nb0 = t * (logTheta[j] - lt), z = nb0 - pi[j], s = Self.sigmoid(z)
                total += Self.softplus(z) - Self.softplus(-pi[j])
                a[j] = -s * t * inv
                weighted += rho[j] * a[j]
                if let dLogTheta { dLogTheta[j] += scale * s * t * (logTheta[j] + 1 - lt - t * inv) }
                r.dropoutGradient?[j] = scale * (Self.sigmoid(-pi[j]) - s)
            }
        case .poisson:
            for j in 0..<g {
                total -= library * rho[j]
                a[j] = -1
            }
            weighted = -1
        }
        // The non-zeros corrected.
        var gammaTerms = 0.0
        for k in r.nonzeros {
            let j = Int(geneIndex[k]), x = counts[k], mu = library * rho[j], logMu = r.logits[j] + logMeanOffset
            switch self {
            case .poisson:
                total += x * logMu
                gammaTerms -= logFactorials[k]
                a[j] += x / mu
                weighted += rho[j] * (x / mu)
            case .nb, .zinb:
                let t = r.theta[j], lt = logThetaPlusMean[j], inv = 1 / (t + mu)
                var digammaDifference: T
                let n = Int(integerCounts[k])
                if n >= 1, n <= r.tableCounts {
                    let slot = j * r.tableCounts + n - 1
                    gammaTerms += Double(r.gammaTable[slot]) - logFactorials[k]
                    digammaDifference = r.digammaTable[slot]
                } else {
                    let (logGammaRatio, difference) = Self.gammaDifferences(Double(x), theta: Double(t), logTheta: Double(r.logTheta![j]),
                                                                            logGammaTheta: r.logGammaTheta[j],
                                                                            digammaTheta: r.digammaTheta[j])
                    gammaTerms += logGammaRatio - logFactorials[k]
                    digammaDifference = T(difference)
                }
                total += x * (logMu - lt)
                var thetaTerm = digammaDifference - x * inv
                let before = a[j]
                if self == .zinb {
                    // Replace the zero case by NB(x) - softplus(pi).
                    let pi = r.dropoutLogits![j], nb0 = t * (r.logTheta![j] - lt), z = nb0 - pi, s = Self.sigmoid(z)
                    total += nb0 - Self.softplus(z) + Self.softplus(-pi) - Self.softplus(pi)
                    a[j] = -t * inv
                    thetaTerm += (1 - s) * (r.logTheta![j] + 1 - lt - t * inv)
                    r.dropoutGradient?[j] = -scale * Self.sigmoid(pi)
                }
                a[j] += x / mu - x * inv
                weighted += rho[j] * (a[j] - before)
                if let dLogTheta { dLogTheta[j] += scale * t * thetaTerm }
            }
        }
        // Through mu = library * softmax(logits): d/dlogit_j = rho_j (L a_j - sum_h rho_h L a_h).
        if let dz = r.logitGradient {
            let k = scale * library
            for j in 0..<g { dz[j] = k * rho[j] * (a[j] - weighted) }
        }
        return Double(total) + gammaTerms
    }

    /// lgamma(x + theta) - lgamma(theta) and digamma(x + theta) - digamma(theta). For the small
    /// integer counts that dominate UMI data the recurrence Gamma(z + 1) = z Gamma(z) gives them as
    /// x logarithms and reciprocals, far cheaper than the functions themselves.
    @inline(__always)
    static func gammaDifferences(_ x: Double, theta: Double, logTheta: Double, logGammaTheta: Double,
                                 digammaTheta: Double) -> (Double, Double) {
        if x >= 1, x <= 8, x == x.rounded(.towardZero) {
            var logs = logTheta, reciprocals = 1 / theta, z = theta
            for _ in 1..<Int(x) { z += 1; logs += Double.log(z); reciprocals += 1 / z }
            return (logs, reciprocals)
        }
        let (logGamma, digamma) = SpecialFunctions.logGammaAndDigamma(x + theta)
        return (logGamma - logGammaTheta, digamma - digammaTheta)
    }

    static func sigmoid<T: ModelScalar>(_ x: T) -> T { 1 / (1 + T.exp(-x)) }
    static func softplus<T: ModelScalar>(_ x: T) -> T { x > 0 ? x + T.log(onePlus: T.exp(-x)) : T.log(onePlus: T.exp(x)) }
}
