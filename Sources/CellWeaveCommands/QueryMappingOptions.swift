import ArgumentParser
import CellWeaveCore
import CellWeaveModel

/// How cells of covariate categories the model has not seen are mapped onto it.
struct QueryMappingOptions: ParsableArguments {
    @Option(help: "Epochs of query mapping for new batches (only their covariate weights train).") var queryEpochs = 100
    @Option(help: "Seed of the query mapping.") var querySeed: UInt64 = 0

    /// The trained model, built for `capacity` cells at a time, and mapped onto `categories` when
    /// they hold categories it has not seen (`data` coded accordingly).
    func model(_ manifest: ModelManifest, tensors: [NamedTensor], categories: [[String]], data: TrainingData, capacity: Int,
               threads: Int) throws -> VariationalAutoencoder<Float> {
        let vae = VariationalAutoencoder<Float>(configuration: manifest.configuration, capacity: capacity, threads: threads, seed: 0)
        try vae.load(tensors)
        guard categories.map(\.count) != manifest.configuration.categoryCounts else { return vae }
        return try map(vae, manifest: manifest, categories: categories, data: data, threads: threads)
    }

    /// `categories[k]`: key k's labels, the model's first; `data` coded accordingly.
    private func map(_ model: VariationalAutoencoder<Float>, manifest: ModelManifest, categories: [[String]], data: TrainingData,
             threads: Int) throws -> VariationalAutoencoder<Float> {
        let new = zip(categories, manifest.covariates).flatMap { labels, covariate in
            labels.dropFirst(covariate.categories.count).map { "\(covariate.key)=\($0)" }
        }
        var mapping = QueryMapping()
        mapping.epochs = queryEpochs
        mapping.seed = querySeed
        mapping.threads = threads
        mapping.batchSize = manifest.options.batchSize
        if !manifest.configuration.encodeCovariates {
            // The encoder has never seen the new batches' shifts and cannot learn them: their cells
            // land off in latent space, and residuals (and scores) grow cell-type by cell-type.
            Log.info("note: the model was trained without --encode-covariates; new batches map better onto a model trained with it, "
                     + "as scvi-tools recommends for scArches")
        }
        return try Log.timed("mapping \(new.joined(separator: ", ")) onto the model (\(queryEpochs) epochs)") {
            try mapping.extend(model, newCounts: categories.map(\.count), data: data, capacity: model.capacity)
        }
    }
}
