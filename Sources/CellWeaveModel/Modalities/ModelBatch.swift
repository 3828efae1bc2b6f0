import CellWeaveCore

/// A minibatch for a model of several modalities: per modality the cells that have it (its
/// expert's input), and the ELBO terms of the MVAE objective (Wu & Goodman 2018): per cell the
/// joint posterior of every modality it has, and for a cell with several modalities one term per
/// modality alone. A cell with one modality has one term, counted twice (its joint and its
/// single-modality ELBO are the same). Per modality, the decoder's batch holds one row per term
/// that reconstructs it. For a model of RNA alone only `rna` is gathered.
public final class ModelBatch<T: ModelScalar> {
    /// The minibatch's cells: the RNA expert's input (and the RNA decoder's, for RNA alone).
    public let rna: SparseBatch<T>
    /// Per modality beyond RNA, the minibatch's cells that have it.
    public let experts: [SparseBatch<T>]
    /// Per modality (RNA first), one row per term that reconstructs it.
    public let decoderBatches: [SparseBatch<T>]
    public private(set) var cells = 0
    /// Per cell and modality (RNA first), the cell's row in that modality's expert batch, or -1.
    public private(set) var expertRow: [Int32] = []
    /// Per term: the cell (position in the minibatch), the modalities whose experts make its
    /// posterior (bit k), those it reconstructs, its weight.
    public private(set) var termCell: [Int32] = []
    public private(set) var termExperts: [UInt32] = []
    public private(set) var termReconstructs: [UInt32] = []
    public private(set) var termWeight: [T] = []
    /// Per modality (RNA first), the term of each decoder row.
    public private(set) var decoderTerms: [[Int32]]
    private var scratchRows: [Int] = [], scratchCells: [Int] = []

    /// Which modalities' own terms also reconstruct the cell's others.
    public let crossModal: CrossModalReconstruction

    /// `parts`: threads each gather from the CSR is split into.
    public init(covariateKeys: Int, extraModalities: Int, crossModal: CrossModalReconstruction = .all, parts: Int = 1) {
        self.crossModal = crossModal
        rna = SparseBatch(covariateKeys: covariateKeys)
        experts = (0..<extraModalities).map { _ in SparseBatch(covariateKeys: covariateKeys) }
        for b in [rna] + experts { b.parts = parts }
        decoderBatches = extraModalities == 0 ? [] : (0...extraModalities).map { _ in SparseBatch(covariateKeys: covariateKeys) }
        decoderTerms = Array(repeating: [], count: extraModalities == 0 ? 0 : extraModalities + 1)
    }

    public var modalities: Int { experts.count + 1 }
    public var terms: Int { termCell.count }

    /// Appends cells of RNA alone from outside the window's data (in data-parallel training, those
    /// another process holds): rows of `matrix`, with their covariate codes.
    public func appendRNA(_ matrix: CSRMatrix, codes: [[Int32]]) {
        precondition(experts.isEmpty, "cells from other processes for a model of RNA alone")
        rna.gather(matrix, rows: 0..<matrix.rows, cells: 0..<matrix.rows, codes: codes, appending: true)
        cells += matrix.rows
    }

    /// Gathers the selected training cells, in order; the decoders' rows only when `decoders`
    /// (inference needs the experts alone).
    public func gather<C: Collection>(_ data: TrainingData, cells selected: C, decoders: Bool = true) where C.Element == Int {
        precondition(data.modalities.count == experts.count, "a batch for \(experts.count) further modalities, data with \(data.modalities.count)")
        rna.gather(data, cells: selected)
        cells = selected.count
        guard !experts.isEmpty else { return }
        let m = modalities
        expertRow.removeAll(keepingCapacity: true)
        expertRow.append(contentsOf: repeatElement(-1, count: cells * m))
        for (i, _) in selected.enumerated() { expertRow[i * m] = Int32(i) }
        for (e, modality) in data.modalities.enumerated() {
            scratchRows.removeAll(keepingCapacity: true)
            scratchCells.removeAll(keepingCapacity: true)
            for (i, c) in selected.enumerated() where modality.rowOfCell[c] >= 0 {
                expertRow[i * m + e + 1] = Int32(scratchRows.count)
                scratchRows.append(Int(modality.rowOfCell[c]))
                scratchCells.append(c)
            }
            experts[e].gather(modality.counts, rows: scratchRows, cells: scratchCells, codes: data.categoryCodes)
        }
        termCell.removeAll(keepingCapacity: true)
        termExperts.removeAll(keepingCapacity: true)
        termReconstructs.removeAll(keepingCapacity: true)
        termWeight.removeAll(keepingCapacity: true)
        for i in 0..<cells {
            var set: UInt32 = 0
            for k in 0..<m where expertRow[i * m + k] >= 0 { set |= 1 << k }
            termCell.append(Int32(i))
            termExperts.append(set)
            termReconstructs.append(set)
            termWeight.append(set.nonzeroBitCount == 1 ? 2 : 1)
        }
        for i in 0..<cells where termExperts[i].nonzeroBitCount > 1 {
            let set = termExperts[i]
            for k in 0..<m where set & (1 << k) != 0 {
                termCell.append(Int32(i))
                termExperts.append(1 << k)
                termReconstructs.append(crossModal.reconstructed(byOwnTermOf: k, of: set))
                termWeight.append(1)
            }
        }
        guard decoders else { return }
        // A decoder row is its term's cell's row in that modality's expert batch, copied.
        for k in 0..<m {
            decoderTerms[k].removeAll(keepingCapacity: true)
            scratchRows.removeAll(keepingCapacity: true)
            for t in 0..<terms where termReconstructs[t] & (1 << k) != 0 {
                decoderTerms[k].append(Int32(t))
                scratchRows.append(Int(expertRow[Int(termCell[t]) * m + k]))
            }
            decoderBatches[k].gather(rowsOf: k == 0 ? rna : experts[k - 1], rows: scratchRows)
        }
    }
}
