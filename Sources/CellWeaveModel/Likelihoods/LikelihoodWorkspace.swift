import CellWeaveCore
import RealModule

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
    /// Per dispersion row and gene, lgamma(x + theta) - lgamma(theta) and digamma(x + theta) -
    /// digamma(theta) for the counts x = 1...tableCounts that make up nearly all UMI non-zeros,
    /// built once per step by the recurrence Gamma(z + 1) = z Gamma(z): one vectorised log per
    /// gene and count, instead of several scalar logs per non-zero.
    let gammaTable: Buffer<T>
    let digammaTable: Buffer<T>
    let tableCounts = 16
    private let tableTerm: Buffer<T>
    private let tableLog: Buffer<T>
    private let outsideTables: Buffer<T>

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
        gammaTable = Buffer(count: dispersionRows * genes * tableCounts)
        digammaTable = Buffer(count: dispersionRows * genes * tableCounts)
        tableTerm = Buffer(count: dispersionRows * genes)
        tableLog = Buffer(count: dispersionRows * genes)
        outsideTables = Buffer(count: genes)
    }

    /// theta, lgamma(theta), digamma(theta) and the gamma tables for the current log theta. Once per
    /// step, a serial pass the other cores would wait for, so split over the parts, by blocks of 64
    /// values: the vectorised log then takes the same values in its vector and scalar steps whatever
    /// the split, and each value is the same bits. lgamma(theta) and digamma(theta) are read only
    /// for counts outside the tables, so they are computed only for the genes with such a count in
    /// `batch` (at shallow depth a few of them; the others keep stale values no one reads).
    func fill(logTheta: UnsafePointer<T>, batch: SparseBatch<T>) {
        markGenesOutsideTables(batch)
        let n = dispersionRows * genes, block = 64, blocks = (n + block - 1) / block, pieces = min(parts, blocks)
        let outside = outsideTables.pointer, genes = self.genes
        ParallelLoop.run(parts: pieces) { p in
            let r = ParallelLoop.range(p, of: pieces, blocks), values = (block * r.lowerBound)..<min(n, block * r.upperBound)
            for k in values {
                let t = T.exp(logTheta[k])
                theta[k] = t
                if outside[k % genes] != 0 {
                    logGammaTheta[k] = Double.logGamma(Double(t))
                    digammaTheta[k] = SpecialFunctions.digamma(Double(t))
                }
            }
            fillGammaTables(logTheta: logTheta, values: values)
        }
    }

    /// Per gene, 1 when a non-zero of the batch is not a count the tables hold.
    private func markGenesOutsideTables(_ batch: SparseBatch<T>) {
        let outside = outsideTables.pointer, k = Int32(tableCounts)
        outsideTables.zero()
        batch.integerCounts.withUnsafeBufferPointer { counts in
            batch.genes.withUnsafeBufferPointer { genes in
                for e in counts.indices where counts[e] < 1 || counts[e] > k { outside[Int(genes[e])] = 1 }
            }
        }
    }

    /// The tables of the values (dispersion row * genes + gene) of `values`, from `theta`.
    private func fillGammaTables(logTheta: UnsafePointer<T>, values: Range<Int>) {
        let k = tableCounts, gamma = gammaTable.pointer, digamma = digammaTable.pointer
        for j in values {
            gamma[j * k] = logTheta[j]
            digamma[j * k] = 1 / theta[j]
        }
        for x in 1..<k {
            for j in values { tableTerm[j] = theta[j] + T(x) }
            T.log(tableTerm.pointer + values.lowerBound, into: tableLog.pointer + values.lowerBound, count: values.count)
            for j in values {
                gamma[j * k + x] = gamma[j * k + x - 1] + tableLog[j]
                digamma[j * k + x] = digamma[j * k + x - 1] + 1 / tableTerm[j]
            }
        }
    }
}
