import CellWeaveCore
@testable import CellWeaveModel
import Testing

/// Small random count data and helpers shared by the model tests.
enum ModelTestData {
    /// cells x genes NB-like counts (about 40% zeros), with keys' codes drawn at random.
    static func data(cells: Int, genes: Int, categoryCounts: [Int], seed: UInt64) -> TrainingData {
        var rng = SeededGenerator(seed: seed)
        var indptr = [0], indices: [Int32] = [], values: [Float] = []
        for _ in 0..<cells {
            for j in 0..<genes where rng.nextUniformFloat() < 0.6 {
                indices.append(Int32(j))
                values.append(Float(1 + Int(rng.nextUniformFloat() * 12)))
            }
            indptr.append(indices.count)
        }
        let counts = CSRMatrix(uncheckedRows: cells, cols: genes, indptr: indptr, indices: indices, values: values)
        let codes = categoryCounts.map { k in (0..<cells).map { _ in Int32(Int(rng.nextUniformFloat() * Float(k))) } }
        return TrainingData(counts: counts, codes: codes, categoryCounts: categoryCounts)
    }

    static func batch<T: ModelScalar>(_ data: TrainingData, _ type: T.Type = T.self) -> SparseBatch<T> {
        let b = SparseBatch<T>(covariateKeys: data.categoryCounts.count)
        b.gather(data, cells: 0..<data.cells)
        return b
    }

    /// Checks every parameter's gradient of the whole minibatch loss per cell (reconstruction +
    /// klWeight * KL, the same random draws for every evaluation) against central differences;
    /// returns the number of coordinates checked per parameter name.
    static func checkGradients(_ model: VariationalAutoencoder<Double>, _ batch: ModelBatch<Double>, training: Bool,
                               klWeight: Double = 0.7) -> [String: Int] {
        let draws = SeededGenerator(seed: 9)
        func loss() -> Double {
            var g = draws
            let l = model.step(batch, klWeight: klWeight, training: training, gradients: false, generator: &g)
            return (l.reconstruction + klWeight * l.kl) / Double(l.cells)
        }
        var g = draws
        model.step(batch, klWeight: klWeight, training: training, gradients: true, generator: &g)
        var checked: [String: Int] = [:]
        for p in model.parameters {
            let analytic = p.gradient.array
            for k in 0..<p.count {
                let numeric = centralDifference(p.value, k, loss)
                #expect(abs(analytic[k] - numeric) < 1e-5 * max(1, abs(numeric)), "\(p.name)[\(k)]: \(analytic[k]) vs \(numeric)")
            }
            checked[p.name] = p.count
        }
        return checked
    }

    /// Central difference of f at x in coordinate k of a buffer, restoring the value.
    static func centralDifference(_ buffer: Buffer<Double>, _ k: Int, h: Double = 1e-6, _ f: () -> Double) -> Double {
        let saved = buffer[k]
        buffer[k] = saved + h
        let up = f()
        buffer[k] = saved - h
        let down = f()
        buffer[k] = saved
        return (up - down) / (2 * h)
    }
}
