/// What `cellweave inspect` reports about a data set: shape, sparsity, annotations and the
/// distribution of counts per cell.
public struct AnnDataSummary: Codable, Equatable, Sendable {
    public struct Distribution: Codable, Equatable, Sendable {
        public var min: Double
        public var median: Double
        public var max: Double

        public init(_ values: [Double]) {
            let sorted = values.sorted()
            min = sorted.first ?? 0
            max = sorted.last ?? 0
            if sorted.isEmpty {
                median = 0
            } else if sorted.count % 2 == 1 {
                median = sorted[sorted.count / 2]
            } else {
                median = (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
            }
        }
    }

    public struct Modality: Codable, Equatable, Sendable {
        public var name: String
        public var features: Int
        /// For modalities of multi-modal data: what it measures and how many cells have it.
        public var kind: String?
        public var cells: Int?
        public var nnz: Int?
    }

    public struct Column: Codable, Equatable, Sendable {
        public var name: String
        public var kind: String
    }

    /// `xLayout` of a file without X.
    public static let absent = "none"
    public var nObs: Int
    public var nVars: Int
    public var nnz: Int
    public var density: Double
    public var xLayout: String
    public var xDtype: String
    public var integerCounts: Bool
    public var totalCountsPerCell: Distribution
    public var genesPerCell: Distribution
    public var obsColumns: [Column]
    public var varColumns: [Column]
    /// Feature types (10x `feature_types`) with their feature counts, in order of appearance.
    public var modalities: [Modality]
    public var layers: [String]
    public var obsm: [String]
    public var hasRaw: Bool

    public init(_ adata: AnnData) {
        let x = adata.x.toCSR()
        nObs = adata.nObs
        nVars = adata.nVars
        nnz = x.nnz
        density = nObs * nVars == 0 ? 0 : Double(x.nnz) / (Double(nObs) * Double(nVars))
        switch adata.x.layout {
        case _ where !adata.hasX: xLayout = Self.absent
        case .csr: xLayout = "csr"
        case .csc: xLayout = "csc"
        case .dense: xLayout = "dense"
        }
        xDtype = adata.x.scalarType.rawValue
        integerCounts = x.values.allSatisfy { $0 >= 0 && $0.rounded() == $0 }
        totalCountsPerCell = Distribution(x.rowSums())
        genesPerCell = Distribution(x.rowNonZeroCounts().map(Double.init))
        obsColumns = adata.obs.columns.map { Column(name: $0.name, kind: $0.values.kindName) }
        varColumns = adata.varTable.columns.map { Column(name: $0.name, kind: $0.values.kindName) }
        modalities = []
        if case let .strings(types)? = adata.varTable["feature_types"] {
            for type in types {
                if let i = modalities.firstIndex(where: { $0.name == type }) {
                    modalities[i].features += 1
                } else {
                    modalities.append(Modality(name: type, features: 1))
                }
            }
        }
        layers = adata.layers.map(\.name)
        obsm = adata.obsm.map(\.name) + adata.passthrough.filter { $0.destinationPath.hasPrefix("obsm/") }.map { String($0.destinationPath.dropFirst(5)) }
        hasRaw = adata.raw != nil
    }
}

extension AnnDataSummary {
    /// The primary (RNA) view's summary, with every modality and the cells that have it.
    public init(_ mdata: MuData) throws {
        self.init(try mdata.primaryView())
        modalities = mdata.modalities.map {
            Modality(name: $0.name, features: $0.data.nVars, kind: $0.kind.rawValue, cells: $0.cells.count, nnz: $0.data.x.storedCount)
        }
    }
}
