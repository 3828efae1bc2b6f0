import ArgumentParser

/// Whether a stage writes what it leaves unchanged as links (the pipeline's intermediate files).
struct LinkOption: ParsableArguments {
    @Flag(help: "Write the matrices this stage leaves as they were (counts, layers, embeddings, graphs) as HDF5 external links to the file that stores them, not copies: a small output that reads as a complete file while that file stays beside it (relative links: the directory can move as a whole).")
    var linkUnchanged = false
}
