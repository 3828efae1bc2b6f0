extension AnnData {
    /// Marks every element still as it was read (X, layers, raw, obsm, varm, obsp, the obs and
    /// var columns, elements carried through) to be written as an HDF5 external link to where it
    /// is stored: a stage's output then holds what it adds, and reads as a complete file while the
    /// files it links to stay beside it. Nothing stored in `output` itself is linked: the file is
    /// being replaced.
    public mutating func linkUnchangedElements(output: String) {
        let replaced = MatrixOrigin.canonical(output)
        func mark(_ m: inout AnnMatrix) { if let o = m.origin, MatrixOrigin.canonical(o.file) != replaced { m.origin!.asLink = true } }
        mark(&x)
        obs.linkUnchangedColumns(unlessStoredIn: replaced)
        varTable.linkUnchangedColumns(unlessStoredIn: replaced)
        passthrough.linkUnlessStoredIn(replaced)
        if raw != nil { mark(&raw!.x); raw!.varTable.linkUnchangedColumns(unlessStoredIn: replaced) }
        for i in layers.indices { mark(&layers[i].matrix) }
        for i in obsm.indices { mark(&obsm[i].matrix) }
        for i in varm.indices { mark(&varm[i].matrix) }
        for i in obsp.indices { mark(&obsp[i].matrix) }
    }
}

extension MuData {
    /// `AnnData.linkUnchangedElements` in every modality, and the root's carried elements.
    public mutating func linkUnchangedElements(output: String) {
        for i in modalities.indices { modalities[i].data.linkUnchangedElements(output: output) }
        passthrough.linkUnlessStoredIn(MatrixOrigin.canonical(output))
    }
}

extension [PassthroughElement] {
    /// Marks each element to be linked, unless its source is the file being replaced.
    mutating func linkUnlessStoredIn(_ replaced: String) {
        for i in indices where MatrixOrigin.canonical(self[i].sourceFile) != replaced {
            self[i].asLink = true
            self[i].replacedFile = replaced
        }
    }
}
