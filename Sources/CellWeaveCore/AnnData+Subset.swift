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
    /// aligned parts (var, varm, layers) the genes; carried pairwise matrices (obsp, varp) and
    /// varm no longer fit and are dropped, uns is kept.
    public func selecting(cells: [Int], genes: [Int]) throws -> AnnData {
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
        out.passthrough = passthrough.filter { $0.destinationPath == "uns" }
        return out
    }
}

extension AnnData {
    /// A subset of cells with every gene: gene-aligned elements carried from the file (varm, varp)
    /// still fit and are kept, as is uns.
    public func selecting(cells: [Int]) throws -> AnnData {
        var out = try selecting(cells: cells, genes: Array(0..<nVars))
        out.passthrough = passthrough.filter { ["uns", "varm", "varp", "raw/varm"].contains($0.destinationPath) }
        return out
    }
}
