import CellWeaveCore
import RealModule

/// Model-based Pearson residuals (DESIGN.md section 5): for each cell, the decoder's mean
/// mu = library * rho(z, s) at the cell's posterior mean z and its own covariates, and
/// r = (x - mu) / sqrt(mu + mu^2 / theta). Cells go through in chunks of the model's capacity;
/// only one chunk's rows are ever dense. Zero-inflated models are scored by their NB part,
/// Poisson models with variance mu. In a model with protein, z is the cell's joint posterior and
/// a cell's measured proteins get residuals under totalVI's mixture (`ProteinResiduals`).
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

    /// One cell's residual summaries: over its genes, and over its proteins when it has them
    /// (deviance and reconstruction scores use RNA alone).
    public struct CellScore: Sendable {
        public var rna: ResidualSummary
        public var protein: ResidualSummary?

        public init(rna: ResidualSummary, protein: ResidualSummary? = nil) {
            self.rna = rna
            self.protein = protein
        }

        /// The weighted mean over every feature the cell has; RNA alone without protein.
        public var combined: Double {
            guard let protein, protein.weight > 0 else { return rna.score }
            return (rna.score * rna.weight + protein.score * protein.weight) / (rna.weight + protein.weight)
        }
    }

    /// One summary per cell of `cells` (default: all), in order. `rnaAlone` scores every cell as
    /// if it had RNA only (its RNA expert's posterior, no protein residuals).
    public func score(_ cells: [Int]? = nil, rnaAlone: Bool = false) -> [CellScore] {
        var out: [CellScore] = []
        let weighted = statistic == .weightedMeanSquared, squared = statistic == .meanSquared || weighted
        let limit = clip ?? .infinity
        func summary(_ residuals: [Double], _ perFeature: inout [Double], _ weights: [Double]) -> ResidualSummary {
            // The score uses clipped residuals; the top features show them as they are.
            if squared { for j in residuals.indices { let r = min(abs(residuals[j]), limit); perFeature[j] = r * r } }
            return residuals.withUnsafeBufferPointer { ResidualSummary(residuals: $0, statistic: perFeature, weights: weighted ? weights : nil, top: topGenes) }
        }
        // Protein enters squared-residual scores only: the other statistics skip its decoder.
        forEachResidualRow(cells ?? Array(0..<data.cells), rnaAlone: rnaAlone, proteinResiduals: squared) { rna, protein in
            let p = protein.map { summary($0.residuals, &$0.perFeature, $0.weights) }
            out.append(CellScore(rna: summary(rna.residuals, &rna.perFeature, rna.weights), protein: p))
        }
        return out
    }

    /// `scores` of `cells` (from `score`) as if every cell had RNA only: the cells with a further
    /// modality rescored by their RNA alone, the others as they are (their posterior is their RNA
    /// expert's already). How reference cells with protein are made comparable with query cells without.
    public func rnaAlone(_ scores: [CellScore], of cells: [Int]) -> [CellScore] {
        let measured = scores.indices.filter { i in data.modalities.contains { $0.rowOfCell[cells[i]] >= 0 } }
        var out = scores
        for (i, s) in zip(measured, score(measured.map { cells[$0] }, rnaAlone: true)) { out[i] = s }
        return out
    }

    /// Per-feature residuals of one cell and modality, reused between cells.
    final class Row {
        var residuals: [Double], perFeature: [Double], weights: [Double], counts: [Double]
        init(_ n: Int) { (residuals, perFeature, weights, counts) = ([Double](repeating: 0, count: n), [Double](repeating: 0, count: n),
                                                                      [Double](repeating: 0, count: n), [Double](repeating: 0, count: n)) }
    }

    /// Calls body(RNA row, protein row or nil) for each cell in order; the rows are reused.
    private func forEachResidualRow(_ selected: [Int], rnaAlone: Bool, proteinResiduals: Bool, _ body: (Row, Row?) -> Void) {
        let c = model.configuration, g = c.genes, d = c.latent, keys = data.categoryCounts.count
        let batch = model.makeBatch(covariateKeys: keys)
        let latent = Buffer<Float>(count: model.capacity * d)
        let rna = Row(g)
        let proteinDecoder = rnaAlone || !proteinResiduals ? nil : model.extras.lazy.compactMap { $0.decoder.protein }.first
        let proteinIndex = model.extras.firstIndex { $0.decoder.protein != nil }
        let protein = proteinDecoder.map { Row($0.features) }
        let logTheta = model.logTheta?.value
        for start in stride(from: 0, to: selected.count, by: model.capacity) {
            let chunk = selected[start..<min(start + model.capacity, selected.count)]
            batch.gather(data, cells: chunk, decoders: false)
            model.posteriorMeans(batch, modality: rnaAlone ? 0 : nil, into: latent.pointer)
            let rows = batch.rna
            rows.categories.withUnsafeBufferPointer {
                model.decodeProportions(latent.pointer, rows: chunk.count, categories: keys > 0 ? $0.baseAddress : nil, keys: keys)
            }
            if let proteinDecoder {
                var unused = SeededGenerator(seed: 0)
                rows.categories.withUnsafeBufferPointer {
                    proteinDecoder.forward(latent.pointer, rows: chunk.count, categories: $0.baseAddress, keys: keys, training: false, generator: &unused)
                }
            }
            for i in 0..<chunk.count {
                for j in 0..<g { rna.counts[j] = 0 }
                for k in rows.rowStart[i]..<rows.rowStart[i + 1] { rna.counts[Int(rows.genes[k])] = Double(rows.counts[k]) }
                let library = Double(rows.library[i]), rho = model.decoder.logits.pointer + i * g
                let dispersionRow = c.dispersion == .gene ? 0 : Int(rows.categories[i * keys])
                for j in 0..<g {
                    let mu = library * Double(rho[j]), x = rna.counts[j]
                    var variance = mu
                    var theta = Double.infinity
                    if let logTheta {
                        theta = Double.exp(Double(logTheta[dispersionRow * g + j]))
                        variance += mu * mu / theta
                    }
                    rna.residuals[j] = variance > 0 ? (x - mu) / variance.squareRoot() : 0
                    switch statistic {
                    case .weightedMeanSquared: rna.weights[j] = Self.inverseVarianceOfSquaredResidual(mean: mu, theta: theta)
                    case .meanSquared: break
                    case .deviance: rna.perFeature[j] = Self.deviance(x, mean: mu, theta: theta)
                    case .reconstruction:
                        rna.perFeature[j] = theta.isInfinite ? -Poisson.logLikelihood(x, mean: max(mu, 1e-12))
                            : -NegativeBinomial.logLikelihood(x, mean: max(mu, 1e-12), theta: theta)
                    }
                }
                var proteinRow: Row?
                if let proteinDecoder, let protein, let e = proteinIndex, batch.expertRow[i * batch.modalities + e + 1] >= 0 {
                    let b = batch.experts[e], r = Int(batch.expertRow[i * batch.modalities + e + 1]), p = proteinDecoder.features
                    for j in 0..<p { protein.counts[j] = 0 }
                    for k in b.rowStart[r]..<b.rowStart[r + 1] { protein.counts[Int(b.genes[k])] = Double(b.counts[k]) }
                    for j in 0..<p {
                        let o = i * p + j
                        let background = Double.exp(Double(proteinDecoder.alpha[o]))
                        let scale = max(Double(proteinDecoder.foregroundPreactivation[o]), 0) + 1 + 1e-8
                        let pi = 1 / (1 + Double.exp(-Double(proteinDecoder.mixingLogits[o])))
                        let theta = Double.exp(Double(proteinDecoder.logTheta.value[j]))
                        (protein.residuals[j], protein.weights[j]) = ProteinResiduals.residual(protein.counts[j], background: background,
                                                                                              foreground: background * scale,
                                                                                              backgroundProbability: pi, theta: theta)
                    }
                    proteinRow = protein
                }
                body(rna, proteinRow)
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
