import CellWeaveCore

extension SampleMerger {
    /// Concatenates multi-modal samples: the RNA modality (with the whole's obs) as `merge` does,
    /// and every other modality on its own features among the samples that have it (proteins among
    /// the samples with a panel, joined as `join` says), each cell keeping its presence: the cells
    /// of a sample without a modality lack it in the result; they are not given zeros.
    public static func merge(_ samples: [(name: String, data: MuData)], join: Join = .inner, batchKey: String = "sample") throws -> MuData {
        let views = try samples.map { ($0.name, try $0.data.primaryView()) }
        let merged = try merge(views, join: join, batchKey: batchKey)
        let primaryName = samples.first.flatMap { s in s.data.primaryIndex.map { s.data.modalities[$0].name } } ?? ModalityKind.rna.muonName
        var whole = try MuData(merged, name: primaryName, kind: .rna)
        let position = Dictionary(uniqueKeysWithValues: merged.obs.index.enumerated().map { ($1, $0) })
        var kinds: [(name: String, kind: ModalityKind)] = []
        for s in samples {
            for m in s.data.modalities where m.kind != .rna && !kinds.contains(where: { $0.kind == m.kind && $0.name == m.name }) {
                kinds.append((m.name, m.kind))
            }
        }
        for (name, kind) in kinds {
            let parts = samples.compactMap { s in s.data.modalities.first { $0.name == name && $0.kind == kind }.map { (s.name, $0.data) } }
            var data = try merge(parts, join: join, batchKey: batchKey)
            var obs = DataFrame(index: data.obs.index, indexName: data.obs.indexName)
            for (column, values) in data.obs.columns where column != batchKey { try obs.setColumn(column, values) }
            data.obs = obs
            let cells = data.obs.index.map { position[$0]! }
            whole.modalities.append(Modality(name: name, kind: kind, data: data, cells: cells))
        }
        return whole
    }
}
