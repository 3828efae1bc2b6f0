extension AnnData {
    /// Marks every element still as it was read (X, layers, raw, obsm, varm, obsp, the obs and
    /// var columns, elements carried through) to be written as an HDF5 external link to where it
    /// is stored: a stage's output then holds what it adds, and reads as a complete file while the
    /// files it links to stay beside it. (The writer copies what is stored in the file it replaces.)
    public mutating func linkUnchangedElements() {
        func mark(_ m: inout AnnMatrix) { m.origin?.asLink = true }
        mark(&x)
        obs.linkUnchangedColumns()
        varTable.linkUnchangedColumns()
        for i in passthrough.indices { passthrough[i].asLink = true }
        if raw != nil { mark(&raw!.x); raw!.varTable.linkUnchangedColumns() }
        for i in layers.indices { mark(&layers[i].matrix) }
        for i in obsm.indices { mark(&obsm[i].matrix) }
        for i in varm.indices { mark(&varm[i].matrix) }
        for i in obsp.indices { mark(&obsp[i].matrix) }
    }
}

extension MuData {
    /// `AnnData.linkUnchangedElements` in every modality, and the root's carried elements.
    public mutating func linkUnchangedElements() {
        for i in modalities.indices { modalities[i].data.linkUnchangedElements() }
        for i in passthrough.indices { passthrough[i].asLink = true }
    }
}
