import CellWeaveCore

/// A linear decoder's gene programs: each latent dimension's loading on each of the model's genes
/// (`LinearDecoder.loadings`), the reading LDVAE is trained for. A gene with a large positive
/// loading on dimension k rises with z_k; one with a large negative loading falls.
///
/// The prior N(0, I) does not tell the model's axes from any rotation of them, and in practice a
/// trained model spreads each program over several dimensions. So by default the loadings are
/// read in their varimax axes (`Varimax`), and the embedding of a linear model is written in the
/// same axes (`inAxes`): distances between cells, and so every downstream result, are unchanged,
/// and each dimension carries one program.
public struct GeneLoadings: Sendable {
    /// Where `embed` writes them: varm and uns.
    public static let key = "cellweave_loadings"
    /// The model's genes, in its order.
    public let geneNames: [String]
    /// Model genes x latent dimensions, in the axes of `rotation`.
    public let matrix: DenseMatrix
    /// latent x latent, row-major: the model's z times this gives the axes the loadings are in
    /// (the identity without varimax).
    public let rotation: [Float]
    /// Whether the axes are varimax's (else the model's own).
    public let varimax: Bool

    /// Nil when the model's decoder is not linear (its genes' responses to z are not loadings).
    public init?(_ model: VariationalAutoencoder<Float>, geneNames: [String], varimax: Bool = true) throws {
        guard let linear = model.decoder.linear else { return nil }
        precondition(geneNames.count == model.configuration.genes)
        let k = model.configuration.latent, raw = linear.loadings()
        self.geneNames = geneNames
        self.varimax = varimax
        guard varimax else {
            matrix = try DenseMatrix(rows: geneNames.count, cols: k, values: raw)
            rotation = (0..<(k * k)).map { $0 / k == $0 % k ? 1 : 0 }
            return
        }
        let axes = try Varimax(loadings: raw.map(Double.init), rows: geneNames.count, k: k)
        rotation = axes.rotation.map(Float.init)
        matrix = try BLAS.matmul(try DenseMatrix(rows: geneNames.count, cols: k, values: raw), DenseMatrix(rows: k, cols: k, values: rotation))
    }

    /// Rows of the model's z (an embedding) in the loadings' axes; NaN rows stay NaN. Row by row
    /// in a fixed order, so that a block of rows rotates as the same rows of the whole embedding
    /// (a streamed embed writes block after block).
    public func inAxes(_ latent: DenseMatrix) throws -> DenseMatrix {
        let k = matrix.cols
        guard latent.cols == k else { throw MatrixError.shapeMismatch(operation: "embedding in the loadings' axes", expected: "\(k) columns", found: "\(latent.cols)") }
        var out = DenseMatrix(rows: latent.rows, cols: k)
        for r in 0..<latent.rows {
            for j in 0..<k {
                var sum: Float = 0
                for i in 0..<k { sum += latent.values[r * k + i] * rotation[i * k + j] }
                out.values[r * k + j] = sum
            }
        }
        return out
    }

    /// The `count` genes of largest loading on `dimension` (most negative with `positive` false),
    /// ties in gene order.
    public func topGenes(dimension k: Int, count: Int, positive: Bool = true) -> [String] {
        let sign: Float = positive ? 1 : -1
        let order = (0..<matrix.rows).sorted { a, b in
            let x = sign * matrix[a, k], y = sign * matrix[b, k]
            return x != y ? x > y : a < b
        }
        return order.prefix(count).map { geneNames[$0] }
    }

    /// The loadings as rows of a file's genes, `columns[g]` the file column of model gene g: NaN
    /// rows for the file's genes the model does not have.
    public func aligned(to columns: [Int], fileGenes: Int) -> DenseMatrix {
        var out = DenseMatrix(rows: fileGenes, cols: matrix.cols, repeating: .nan)
        for (g, j) in columns.enumerated() { for k in 0..<matrix.cols { out[j, k] = matrix[g, k] } }
        return out
    }

    /// uns entry: for each dimension (1-based, as the embedding's columns X_cellweave_k), its top
    /// positive and negative genes; the axes (varimax or the model's) and the rotation (flattened
    /// latent x latent, row-major) from the model's z to them.
    public func summary(top count: Int) -> UnsValue {
        .dict((0..<matrix.cols).map { k in
            ("\(k + 1)", .dict([("positive", .strings(topGenes(dimension: k, count: count))),
                                ("negative", .strings(topGenes(dimension: k, count: count, positive: false)))]))
        } + [("axes", .string(varimax ? "varimax" : "model")), ("rotation", .numbers(NumericArray(floats: rotation.map(Double.init))))])
    }
}
