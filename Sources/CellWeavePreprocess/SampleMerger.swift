import CellWeaveCore

/// Concatenates samples into one AnnData: cells stacked, genes matched by var name (the shared
/// genes, or all genes with zeros where a sample lacks one), barcodes suffixed with the sample
/// name as anndata.concat(index_unique="-") does, and the sample as a categorical obs column.
public enum SampleMerger {
    public enum Join: String, Sendable, CaseIterable { case inner, outer }

    public enum MergeError: Error, CustomStringConvertible, Equatable {
        case noSamples
        case duplicateSample(String)
        case noSharedGenes
        case duplicateGenes(sample: String, gene: String)

        public var description: String {
            switch self {
            case .noSamples: return "no samples to merge"
            case let .duplicateSample(name): return "sample name '\(name)' is used twice"
            case .noSharedGenes: return "the samples share no gene names; use --join outer or check the inputs"
            case let .duplicateGenes(sample, gene):
                return "sample '\(sample)' has gene name '\(gene)' more than once; make var names unique first (--var-names-make-unique)"
            }
        }
    }

    public static func merge(_ samples: [(name: String, data: AnnData)], join: Join = .inner, batchKey: String = "sample") throws -> AnnData {
        guard let first = samples.first else { throw MergeError.noSamples }
        var seenNames = Set<String>()
        for s in samples where !seenNames.insert(s.name).inserted { throw MergeError.duplicateSample(s.name) }
        for s in samples {
            var seen = Set<String>()
            for g in s.data.varTable.index where !seen.insert(g).inserted { throw MergeError.duplicateGenes(sample: s.name, gene: g) }
        }

        // Genes in the first sample's order, then (outer) new ones as they appear.
        var genes = first.data.varTable.index
        if join == .inner {
            let shared = samples.dropFirst().reduce(Set(genes)) { $0.intersection($1.data.varTable.index) }
            genes = genes.filter(shared.contains)
        } else {
            var known = Set(genes)
            for s in samples.dropFirst() { for g in s.data.varTable.index where known.insert(g).inserted { genes.append(g) } }
        }
        guard !genes.isEmpty else { throw MergeError.noSharedGenes }
        let position = Dictionary(uniqueKeysWithValues: genes.enumerated().map { ($1, Int32($0)) })

        var indptr = [0], indices: [Int32] = [], values: [Float] = []
        var barcodes: [String] = [], sampleCodes: [Int32] = []
        var row: [(Int32, Float)] = []
        for (code, s) in samples.enumerated() {
            let x = s.data.x.toCSR()
            let remap = s.data.varTable.index.map { position[$0] ?? -1 }
            for c in 0..<x.rows {
                row.removeAll(keepingCapacity: true)
                for k in x.indptr[c]..<x.indptr[c + 1] where remap[Int(x.indices[k])] >= 0 {
                    row.append((remap[Int(x.indices[k])], x.values[k]))
                }
                row.sort { $0.0 < $1.0 }
                indices += row.map(\.0)
                values += row.map(\.1)
                indptr.append(indices.count)
            }
            barcodes += s.data.obs.index.map { "\($0)-\(s.name)" }
            sampleCodes += [Int32](repeating: Int32(code), count: x.rows)
        }
        let matrix = CSRMatrix(uncheckedRows: barcodes.count, cols: genes.count, indptr: indptr, indices: indices, values: values)
        var obs = DataFrame(index: barcodes)
        for name in first.data.obs.columnNames where name != batchKey {
            if let merged = concatenate(samples.map { $0.data.obs[name] }) { try obs.setColumn(name, merged) }
        }
        try obs.setColumn(batchKey, .categorical(codes: sampleCodes, categories: .strings(samples.map(\.name)), ordered: false))

        // Gene annotations that describe the gene, not one sample's cells (ids, types, genome).
        var varTable = DataFrame(index: genes)
        for column in ["gene_ids", "feature_types", "genome"] {
            var merged = [String?](repeating: nil, count: genes.count)
            for s in samples {
                guard case let .strings(v)? = s.data.varTable[column] else { continue }
                for (i, g) in s.data.varTable.index.enumerated() {
                    if let p = position[g], merged[Int(p)] == nil { merged[Int(p)] = v[i] }
                }
            }
            if merged.contains(where: { $0 != nil }) { try varTable.setColumn(column, .strings(merged.map { $0 ?? "" })) }
        }
        return try AnnData(x: .csr(matrix, scalarType: first.data.x.scalarType), obs: obs, varTable: varTable)
    }

    /// One column from every sample, if all have it in a kind that concatenates.
    static func concatenate(_ parts: [ColumnValues?]) -> ColumnValues? {
        let present = parts.compactMap { $0 }
        guard present.count == parts.count else { return nil }
        var strings: [String] = [], doubles: [Double] = [], ints: [Int64] = [], bools: [Bool] = []
        for p in present {
            switch p {
            case let .strings(v): strings += v
            case let .booleans(v): bools += v
            case let .numeric(v):
                switch v.storage {
                case let .integers(x): ints += x
                case let .floats(x): doubles += x
                }
            case let .categorical(codes, .strings(categories), _):
                strings += codes.map { $0 < 0 ? "" : categories[Int($0)] }
            default: return nil
            }
        }
        let total = present.reduce(0) { $0 + $1.count }
        if strings.count == total {
            if present.allSatisfy({ if case .categorical = $0 { return true } else { return false } }) {
                return .categorical(labels: strings)
            }
            return .strings(strings)
        }
        if doubles.count == total { return .numeric(NumericArray(floats: doubles)) }
        if ints.count == total { return .numeric(NumericArray(integers: ints)) }
        if bools.count == total { return .booleans(bools) }
        return nil
    }
}
