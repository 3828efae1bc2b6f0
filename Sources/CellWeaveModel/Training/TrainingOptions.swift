/// How to train; names follow scvi-tools, and so do the defaults except the KL warm-up, the
/// learning rate and the number of epochs (BENCHMARKS.md, "Training defaults", has the evidence).
public struct TrainingOptions: Codable, Sendable, Equatable {
    public var maxEpochs: Int
    public var batchSize = 128
    /// scVI's is 1e-3, totalVI's 4e-3; 2e-3 integrated better than 1e-3 in 100-epoch runs.
    public var learningRate = 2e-3
    public var weightDecay = 1e-6
    public var adamEpsilon = 0.01
    /// Fraction of cells trained on; the rest are held out for the validation ELBO (and later,
    /// as reference cells for calibrating anomaly scores).
    public var trainFraction = 0.9
    public var earlyStopping = false
    public var earlyStoppingPatience = 45
    public var earlyStoppingMinDelta = 0.0
    /// The KL weight rises linearly from 0 over these epochs (scvi-tools' n_epochs_kl_warmup);
    /// by default a quarter of the run, so that every run ends on the full ELBO.
    public var klWarmupEpochs: Int
    /// Clip the global gradient norm to this value when set.
    public var gradientClipNorm: Double? = nil
    public var seed: UInt64 = 0
    public var threads = 1
    /// Set when the counts are streamed from disk (`StreamedTrainingCells`).
    public var streaming: StreamLayout? = nil

    public init(maxEpochs: Int) {
        self.maxEpochs = maxEpochs
        klWarmupEpochs = Self.defaultKLWarmupEpochs(maxEpochs: maxEpochs)
    }

    /// A quarter of the epochs: scvi-tools' fixed 400 leaves a 100-epoch run at KL weight 0.25,
    /// its batches still apart.
    public static func defaultKLWarmupEpochs(maxEpochs: Int) -> Int {
        max(1, Int((Double(maxEpochs) * 0.25).rounded()))
    }

    /// scvi-tools' rule, min(round(20000 / cells * E), E), with E = 100 for RNA (longer runs lost
    /// bio conservation on both benchmarks) and scvi-tools' E = 400 with further modalities (the
    /// product of experts places cells lacking a modality among measured ones only after more epochs).
    public static func defaultMaxEpochs(cells: Int, modalities: Int = 1) -> Int {
        let most = modalities > 1 ? 400.0 : 100.0
        return max(1, Int(min((20_000.0 / Double(max(cells, 1)) * most).rounded(), most)))
    }

    public func klWeight(epoch: Int) -> Double {
        klWarmupEpochs <= 0 ? 1 : min(1, Double(epoch) / Double(klWarmupEpochs))
    }
}
