/// Reading labels from obs and gene identifiers from var, with errors that name the file and column.
public enum CovariateColumns {
    public struct ColumnError: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    /// The obs column as a code per cell into its sorted distinct labels.
    public static func labels(_ adata: AnnData, key: String, file: String) throws -> (codes: [Int], labels: [String]) {
        try labels(obs: adata.obs, key: key, file: file)
    }

    public static func labels(obs: DataFrame, key: String, file: String) throws -> (codes: [Int], labels: [String]) {
        try labels(obs[key], key: key, columns: obs.columnNames, file: file)
    }

    /// `column`: obs `key` (nil when the table has none), one of `columns`.
    public static func labels(_ column: ColumnValues?, key: String, columns: [String], file: String) throws -> (codes: [Int], labels: [String]) {
        guard let column else {
            throw ColumnError(description: "\(file): no obs column '\(key)' (obs columns: \(columns.joined(separator: ", ")))")
        }
        guard let coded = column.batchCodes() else {
            throw ColumnError(description: "\(file): obs column '\(key)' has missing values or is not a label column")
        }
        return coded
    }

    /// Gene identifiers: var gene_ids when present (Ensembl ids from Cell Ranger), else the var names.
    public static func geneIDs(_ varTable: DataFrame) -> [String] {
        if let column = varTable["gene_ids"], let coded = column.batchCodes() { return coded.codes.map { coded.labels[$0] } }
        return varTable.index
    }
}
