import CellWeaveCore

/// Reads Cell Ranger's HDF5 feature-barcode matrix (filtered_feature_bc_matrix.h5): the v3
/// layout (/matrix with a features group) and the v2 layout (one group per genome).
public enum TenXH5Reader {
    public static func isTenXH5(_ file: HDF5File) -> Bool {
        if file.contains("matrix/barcodes") { return true }
        return ((try? file.childNames()) ?? []).contains { file.contains($0 + "/barcodes") && file.contains($0 + "/gene_names") }
    }

    public static func read(path: String) throws -> FeatureBarcodeMatrix {
        let file = try HDF5File.open(path)
        if file.contains("matrix") {
            let g = try file.group("matrix")
            let f = try g.group("features")
            let ids = try f.dataset("id").readStrings()
            return try read(g, featureIDs: ids, names: try f.dataset("name").readStrings(),
                            types: try f.dataset("feature_type").readStrings(),
                            genomes: f.contains("genome") ? try f.dataset("genome").readStrings() : nil)
        }
        guard let genome = try file.childNames().first(where: { file.contains($0 + "/gene_names") }) else {
            throw InputError(.notH5ad, file: path, .hdf5Path("/"), "not a Cell Ranger .h5 matrix: no /matrix group and no genome group")
        }
        let g = try file.group(genome)
        let ids = try g.dataset("genes").readStrings()
        return try read(g, featureIDs: ids, names: try g.dataset("gene_names").readStrings(),
                        types: Array(repeating: "Gene Expression", count: ids.count), genomes: Array(repeating: genome, count: ids.count))
    }

    /// The matrix is stored CSC over features x barcodes, which is CSR over barcodes x features.
    static func read(_ g: HDF5Group, featureIDs: [String], names: [String], types: [String], genomes: [String]?) throws -> FeatureBarcodeMatrix {
        let shape = try g.dataset("shape").readInt64s()
        guard shape.count == 2 else { throw g.error(.value, "shape should hold two integers", at: "shape") }
        let barcodes = try g.dataset("barcodes").readStrings()
        let (nFeatures, nBarcodes) = (Int(shape[0]), Int(shape[1]))
        guard barcodes.count == nBarcodes else {
            throw g.error(.mismatch, "\(barcodes.count) barcodes, but shape says \(nBarcodes)", at: "barcodes")
        }
        guard featureIDs.count == nFeatures, names.count == nFeatures, types.count == nFeatures else {
            throw g.error(.mismatch, "\(featureIDs.count) features, but shape says \(nFeatures)")
        }
        let counts: CSRMatrix
        do {
            counts = try CSRMatrix(rows: nBarcodes, cols: nFeatures,
                                   indptr: try g.dataset("indptr").readInt64s().map { Int($0) },
                                   indices: try g.dataset("indices").readInt32s(), values: try g.dataset("data").readFloats())
        } catch let e as MatrixError {
            throw g.error(.value, "inconsistent sparse matrix: \(e)")
        }
        return FeatureBarcodeMatrix(counts: counts, barcodes: barcodes, featureIDs: featureIDs, featureNames: names,
                                    featureTypes: types, genomes: genomes)
    }
}
