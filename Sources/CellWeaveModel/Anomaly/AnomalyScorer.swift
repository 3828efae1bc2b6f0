import CellWeaveCore
import RealModule

/// Model-based Pearson residuals (DESIGN.md section 5): for each cell, the decoder's mean
/// mu = library * rho(z, s) at the cell's posterior mean z and its own covariates, and
/// r = (x - mu) / sqrt(mu + mu^2 / theta). Cells go through in chunks of the model's capacity;
/// only one chunk's rows are ever dense. Zero-inflated models are scored by their NB part,
/// Poisson models with variance mu.
public struct AnomalyScorer {
    public let model: VariationalAutoencoder<Float>
    public let data: TrainingData
    public var statistic = ResidualStatistic.weightedMeanSquared
    public var topGenes = 10
    /// Residuals are clipped to +-clip in the (weighted) mean squared residual, so a single gene
    /// cannot dominate a cell's score.
    public var clip: Double?

    public init(model: VariationalAutoencoder<Float>, data: TrainingData) {
        self.model = model
        self.data = data
    }

    /// One summary per cell of `cells` (default: all), in order.
    public func score(_ cells: [Int]? = nil) -> [ResidualSummary] {
        var out: [ResidualSummary] = []
        let weighted = statistic == .weightedMeanSquared
        forEachResidualRow(cells ?? Array(0..<data.cells)) { perGene, weights, residuals in
            // The score uses clipped residuals; the top genes show them as they are.
            if statistic == .meanSquared || weighted {
                let limit = clip ?? .infinity
                for j in residuals.indices { let r = min(abs(residuals[j]), limit); perGene[j] = r * r }
            }
            residuals.withUnsafeBufferPointer {
                out.append(ResidualSummary(residuals: $0, statistic: perGene, weights: weighted ? weights : nil, top: topGenes))
            }
        }
        return out
    }

    /// Calls body(per-gene statistic, per-gene 1 / Var(r^2), residuals) for each cell in order;
    /// the arrays are reused.
    private func forEachResidualRow(_ selected: [Int], _ body: (inout [Double], [Double], [Double]) -> Void) {
        let c = model.configuration, g = c.genes, d = c.latent, keys = data.categoryCounts.count
        let batch = SparseBatch<Float>(covariateKeys: keys)
        let latent = Buffer<Float>(count: model.capacity * d)
        var residuals = [Double](repeating: 0, count: g), perGene = [Double](repeating: 0, count: g)
        var weights = [Double](repeating: 0, count: g)
        var x = [Double](repeating: 0, count: g)
        let logTheta = model.logTheta?.value
        for start in stride(from: 0, to: selected.count, by: model.capacity) {
            let chunk = selected[start..<min(start + model.capacity, selected.count)]
            batch.gather(data, cells: chunk)
            model.encodeMeans(batch)
            latent.pointer.update(from: model.encoder.mean.pointer, count: chunk.count * d)
            batch.categories.withUnsafeBufferPointer {
                model.decodeProportions(latent.pointer, rows: chunk.count, categories: keys > 0 ? $0.baseAddress : nil, keys: keys)
            }
            for i in 0..<chunk.count {
                for j in 0..<g { x[j] = 0 }
                for k in batch.rowStart[i]..<batch.rowStart[i + 1] { x[Int(batch.genes[k])] = Double(batch.counts[k]) }
                let library = Double(batch.library[i]), rho = model.decoder.logits.pointer + i * g
                let dispersionRow = c.dispersion == .gene ? 0 : Int(batch.categories[i * keys])
                for j in 0..<g {
                    let mu = library * Double(rho[j])
                    var variance = mu
                    var theta = Double.infinity
                    if let logTheta {
                        theta = Double.exp(Double(logTheta[dispersionRow * g + j]))
                        variance += mu * mu / theta
                    }
                    residuals[j] = variance > 0 ? (x[j] - mu) / variance.squareRoot() : 0
                    switch statistic {
                    case .weightedMeanSquared: weights[j] = Self.inverseVarianceOfSquaredResidual(mean: mu, theta: theta)
                    case .meanSquared: break
                    case .deviance: perGene[j] = Self.deviance(x[j], mean: mu, theta: theta)
                    case .reconstruction:
                        perGene[j] = theta.isInfinite ? -Poisson.logLikelihood(x[j], mean: max(mu, 1e-12))
                            : -NegativeBinomial.logLikelihood(x[j], mean: max(mu, 1e-12), theta: theta)
                    }
                }
                body(&perGene, weights, residuals)
            }
        }
    }

    /// 1 / Var(r^2) for r the Pearson residual of an NB(mu, theta) count: E r^4 - 1 is the
    /// kurtosis minus one, 2 + 6/theta + theta / (mu (mu + theta)) (2 + 1/mu for the Poisson).
    /// Zero where mu is zero: such a gene carries no information about the cell.
    static func inverseVarianceOfSquaredResidual(mean mu: Double, theta: Double) -> Double {
        guard mu > 0 else { return 0 }
        let variance = theta.isInfinite ? 2 + 1 / mu : 2 + 6 / theta + theta / (mu * (mu + theta))
        return 1 / variance
    }

    /// The NB unit deviance 2 [x log(x / mu) - (x + theta) log((x + theta) / (mu + theta))]
    /// (Poisson's when theta is infinite).
    static func deviance(_ x: Double, mean mu: Double, theta: Double) -> Double {
        let m = max(mu, 1e-12)
        let first = x > 0 ? x * Double.log(x / m) : 0
        if theta.isInfinite { return 2 * (first - (x - m)) }
        return 2 * (first - (x + theta) * Double.log((x + theta) / (m + theta)))
    }
}
