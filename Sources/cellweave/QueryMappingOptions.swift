import ArgumentParser
import CellWeaveModel

/// How cells of covariate categories the model has not seen are mapped onto it.
struct QueryMappingOptions: ParsableArguments {
    @Option(help: "Epochs of query mapping for new batches (only their covariate weights train).") var queryEpochs = 100
    @Option(help: "Seed of the query mapping.") var querySeed: UInt64 = 0

    /// `categories[k]`: key k's labels, the model's first; `data` coded accordingly.
    func map(_ model: VariationalAutoencoder<Float>, manifest: ModelManifest, categories: [[String]], data: TrainingData,
             threads: Int) throws -> VariationalAutoencoder<Float> {
        let new = zip(categories, manifest.covariates).flatMap { labels, covariate in
            labels.dropFirst(covariate.categories.count).map { "\(covariate.key)=\($0)" }
        }
        var mapping = QueryMapping()
        mapping.epochs = queryEpochs
        mapping.seed = querySeed
        mapping.threads = threads
        mapping.batchSize = manifest.options.batchSize
        return try Log.timed("mapping \(new.joined(separator: ", ")) onto the model (\(queryEpochs) epochs)") {
            try mapping.extend(model, newCounts: categories.map(\.count), data: data, capacity: model.capacity)
        }
    }
}
