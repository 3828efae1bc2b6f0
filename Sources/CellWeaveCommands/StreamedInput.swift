import ArgumentParser
import CellWeaveCore
import CellWeaveIO
import CellWeaveModel

/// An .h5ad whose counts a stage streams for a model (`--max-memory`): its obs and var tables,
/// the cells' covariate codes in the model's categories, and its CSR rows in the model's genes.
/// Batches the model has not seen are refused: mapping them trains on their counts in memory.
struct StreamedInput {
    let file: String
    let obs: DataFrame
    let varTable: DataFrame
    /// The file's var rows of the model's genes, in the model's order.
    let columns: [Int]
    let codes: [[Int32]]
    let categories: [[String]]
    let matrix: String
    let stream: CSRRowStream

    /// `streaming`: what reads the rows, for the errors (`--max-memory`, data-parallel embedding).
    init(_ file: String, manifest: ModelManifest, source: String, streaming: String = "--max-memory") throws {
        guard manifest.modalities == nil else { throw ValidationError("\(streaming) handles models of RNA alone") }
        try CheckedRowStream.requireH5ad(file, streaming: streaming)
        self.file = file
        matrix = "/" + source
        (obs, varTable) = try Log.timed("reading the obs and var of \(file)") { try H5adReader.readTables(path: file, counts: source) }
        columns = try ModelInputs.modelColumns(manifest, in: varTable, file: file)
        (codes, categories) = try ModelInputs.covariateCodes(obs, manifest: manifest, file: file)
        for (covariate, labels) in zip(manifest.covariates, categories) where labels.count > covariate.categories.count {
            throw ValidationError("\(file): obs '\(covariate.key)' has categories the model has not seen "
                                  + "(\(labels.dropFirst(covariate.categories.count).prefix(5).joined(separator: ", "))); "
                                  + "mapping them trains on their counts in memory, which \(streaming) does not hold")
        }
        stream = try CSRRowStream(file: file, matrix: matrix)
        guard stream.rows == obs.rowCount else {
            throw InputError(.mismatch, file: file, .hdf5Path(matrix), "\(stream.rows) rows, but obs has \(obs.rowCount) cells")
        }
    }

    func counts(_ range: Range<Int>) throws -> CSRMatrix { try stream.rows(range).selectingColumns(columns) }
}
