extension AnnMatrix {
    /// The given rows and columns, in that order, in the same layout.
    public func selecting(rows: [Int], cols: [Int]) throws -> AnnMatrix {
        var out = self
        switch layout {
        case let .csr(m): out.layout = .csr(try m.selectingRows(rows).selectingColumns(cols))
        case let .csc(m): out.layout = .csc(try m.selectingColumns(cols).selectingRows(rows))
        case let .dense(m):
            var values = [Float]()
            values.reserveCapacity(rows.count * cols.count)
            for r in rows {
                guard r >= 0, r < m.rows else { throw MatrixError.indexOutOfRange(axis: "row", index: r, size: m.rows) }
                for c in cols {
                    guard c >= 0, c < m.cols else { throw MatrixError.indexOutOfRange(axis: "column", index: c, size: m.cols) }
                    values.append(m[r, c])
                }
            }
            out.layout = .dense(try DenseMatrix(rows: rows.count, cols: cols.count, values: values))
        }
        return out
    }
}

extension AnnData {
    /// A subset of cells and genes. Cell-aligned parts (obs, obsm, raw) follow the cells, gene-
    /// aligned parts (var, varm, layers) the genes, uns is kept. Elements carried from the file
    /// unread (obsp, varp, varm, raw/varm, data frames in obsm) are kept where their axes are
    /// untouched and dropped otherwise (`carriedElementsLost` names them). Every cell and gene
    /// gives the data as it is, each element still copied bit for bit from where it was read.
    public func selecting(cells: [Int], genes: [Int]) throws -> AnnData {
        let everyCell = cells.elementsEqual(0..<nObs), everyGene = genes.elementsEqual(0..<nVars)
        if everyCell && everyGene { return self }
        var out = try AnnData(x: try x.selecting(rows: cells, cols: genes), obs: obs.selectingRows(cells),
                              varTable: varTable.selectingRows(genes))
        out.layers = try layers.map { ($0.name, try $0.matrix.selecting(rows: cells, cols: genes)) }
        out.obsm = try obsm.map { ($0.name, try $0.matrix.selecting(rows: cells, cols: Array(0..<$0.matrix.cols))) }
        if let raw {
            out.raw = Raw(x: try raw.x.selecting(rows: cells, cols: Array(0..<raw.x.cols)), varTable: raw.varTable)
        }
        out.varm = try varm.map { ($0.name, try $0.matrix.selecting(rows: genes, cols: Array(0..<$0.matrix.cols))) }
        out.uns = uns
        out.hasX = hasX
        out.passthrough = passthrough.filter { Self.carriedElementFits($0, everyCell: everyCell, everyGene: everyGene) }
        return out
    }

    /// A subset of cells with every gene.
    public func selecting(cells: [Int]) throws -> AnnData { try selecting(cells: cells, genes: Array(0..<nVars)) }

    /// The destinations of the elements carried from the file that `selecting(cells:genes:)` drops.
    public func carriedElementsLost(selecting cells: [Int], genes: [Int]) -> [String] {
        let everyCell = cells.elementsEqual(0..<nObs), everyGene = genes.elementsEqual(0..<nVars)
        return passthrough.filter { !Self.carriedElementFits($0, everyCell: everyCell, everyGene: everyGene) }.map(\.destinationPath)
    }

    /// Whether a carried element still fits: uns always; cell-aligned ones (obsm, obsp) with every
    /// cell, gene-aligned ones (varm, varp; raw/varm has raw's genes) with every gene.
    private static func carriedElementFits(_ e: PassthroughElement, everyCell: Bool, everyGene: Bool) -> Bool {
        let d = e.destinationPath
        if d == "uns" { return true }
        if d == "obsp" || d.hasPrefix("obsm/") { return everyCell }
        if d == "raw/varm" { return true }
        if d == "varm" || d == "varp" { return everyGene }
        return false
    }
}
