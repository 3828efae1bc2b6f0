/// Which batch each cell is in, batches numbered in the order of their sorted codes (as numpy's
/// unique orders them), checked as every HVG flavour needs them.
struct BatchCells {
    /// Per cell its batch (0..<count).
    let code: [Int]
    let sizes: [Int]
    var count: Int { sizes.count }

    init(cells: Int, genes: Int, batches: [Int]?, nTopGenes: Int) throws {
        guard nTopGenes >= 1, nTopGenes <= genes else { throw PreprocessError.tooManyGenesRequested(nTopGenes, available: genes) }
        let codes = batches ?? [Int](repeating: 0, count: cells)
        let numbering = Dictionary(uniqueKeysWithValues: Set(codes).sorted().enumerated().map { ($1, $0) })
        code = codes.map { numbering[$0]! }
        var sizes = [Int](repeating: 0, count: numbering.count)
        for b in code { sizes[b] += 1 }
        self.sizes = sizes
        // A variance needs two cells in every batch.
        if let smallest = sizes.min(), smallest < 2 { throw PreprocessError.tooFewCells(smallest, needed: 2) }
    }
}
