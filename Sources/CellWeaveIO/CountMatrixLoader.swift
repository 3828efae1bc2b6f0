import CellWeaveCore
import Foundation

/// Opens any supported count-matrix input as AnnData: a Cell Ranger directory, a Cell Ranger
/// .h5, an .h5ad, a bare Matrix Market file, or an .h5mu's RNA modality.
public enum CountMatrixLoader {
    public enum InputKind: String, Sendable {
        case tenXDirectory = "10x matrix directory"
        case tenXH5 = "10x HDF5"
        case h5ad = "h5ad"
        case h5mu = "h5mu"
        case matrixMarket = "Matrix Market"
    }

    public struct Options: Sendable {
        public var source: H5adReader.MatrixSource = .x
        public var features: FeatureBarcodeMatrix.FeatureSelection = .geneExpression
        public var makeVarNamesUnique = false
        /// Told the file and the fraction read, while long text inputs are parsed.
        public var progress: ProgressHandler?
        public init() {}
    }

    public static func detect(_ path: String) throws -> InputKind {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw InputError(.notFound, file: path, "no such file or directory")
        }
        if isDirectory.boolValue {
            _ = try TenXDirectoryReader.locate(path, ["matrix.mtx"])
            return .tenXDirectory
        }
        let lower = path.lowercased()
        if lower.hasSuffix(".mtx") || lower.hasSuffix(".mtx.gz") { return .matrixMarket }
        let file: HDF5File
        do {
            file = try HDF5File.open(path)
        } catch let e as InputError where e.kind == .notH5ad {
            throw InputError(.notH5ad, file: path, "not a count matrix CellWeave reads: expected a 10x directory, .h5, .h5ad or .mtx(.gz)")
        }
        if TenXH5Reader.isTenXH5(file) { return .tenXH5 }
        return H5muReader.isH5mu(file) ? .h5mu : .h5ad
    }

    public static func load(_ path: String, options: Options = Options()) throws -> AnnData {
        let kind = try detect(path)
        if kind != .h5ad && options.source != .x {
            throw InputError(.unsupported, file: path, "--layer and --raw apply to h5ad input only; this is a \(kind.rawValue)")
        }
        var adata: AnnData
        switch kind {
        case .tenXDirectory:
            let m = try TenXDirectoryReader.read(directory: path, progress: options.progress)
            adata = try m.annData(features: options.features, makeVarNamesUnique: options.makeVarNamesUnique, file: path)
        case .tenXH5:
            let m = try TenXH5Reader.read(path: path)
            adata = try m.annData(features: options.features, makeVarNamesUnique: options.makeVarNamesUnique, file: path)
        case .matrixMarket:
            let (_, m) = try MatrixMarketReader.read(path: path, progress: options.progress)
            // As scanpy.read_mtx: rows are observations, names are positions.
            adata = try AnnData(x: .csr(m), obs: DataFrame(index: (0..<m.rows).map(String.init)),
                                varTable: DataFrame(index: (0..<m.cols).map(String.init)))
        case .h5ad:
            adata = try H5adReader.read(path: path, source: options.source)
        case .h5mu:
            // A stage that works on one matrix sees the RNA modality with the whole's obs and obsm.
            do {
                adata = try H5muReader.read(path: path).primaryView()
            } catch let e as MuData.PrimaryViewError {
                throw InputError(.unsupported, file: path, .hdf5Path("/mod"), e.description)
            }
        }
        if options.makeVarNamesUnique { adata.varTable.makeIndexUnique() }
        // Nothing downstream can work on a matrix without counts; say so at the source (a file
        // without X is judged by the stage that takes its counts from a layer).
        if adata.nObs == 0 || adata.nVars == 0 || (adata.hasX && adata.x.storedValues.allSatisfy({ $0 == 0 })) {
            throw InputError(.empty, file: path, "the count matrix is empty (\(adata.nObs) cells x \(adata.nVars) features, no non-zero value)")
        }
        return adata
    }
}
