import ArgumentParser
import CellWeaveAnalysis
import CellWeaveCore
import Foundation

struct NeighborsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "neighbors",
        abstract: "The kNN graph of an embedding, stored as scanpy stores it: obsp distances and connectivities (UMAP's fuzzy union), uns neighbors.",
        discussion: "Exact neighbours from BLAS distance products up to 50,000 cells, NN-descent beyond (--method); scanpy.tl.leiden, sc.tl.umap and scib read the result as their own.")

    @OptionGroup var stage: StageArguments
    @OptionGroup var embedding: EmbeddingOption
    @Option(help: "Neighbours per cell, the cell itself included (scanpy's n_neighbors).") var nNeighbors = 15
    @Option(help: "uns key of the graph; obsp keys get it as prefix unless it is 'neighbors' (as scanpy's key_added).")
    var keyAdded = "neighbors"
    @Option(help: "auto (exact up to 50,000 cells, else approximate), exact, or approximate (NN-descent).")
    var method: NeighborSearch = .auto
    @Option(help: "Seed of the approximate search.") var seed: UInt64 = 0
    @Option(help: "Threads.") var threads = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        guard nNeighbors >= 2 else { throw ValidationError("--n-neighbors must be at least 2 (the cell itself and one neighbour).") }
    }

    func run() throws {
        let input = try stage.load(needsCounts: false)
        var adata = input.adata
        let x = try embedding.embedding(of: adata, file: stage.input)
        guard x.rows >= nNeighbors else {
            throw ValidationError("\(stage.input): \(x.rows) cells; --n-neighbors \(nNeighbors) needs at least as many")
        }
        BLAS.threadCount = 1
        let nn = Log.timed("\(nNeighbors) nearest neighbours of \(x.rows) cells in \(embedding.useRep) (\(method.rawValue))") {
            method.neighbors(x, k: nNeighbors, threads: threads, seed: seed)
        }
        let connectivities = Log.timed("connectivities") { UMAPConnectivities.compute(nn) }
        let distancesKey = NeighborsKeyOption.obspKey(keyAdded, "distances"), connectivitiesKey = NeighborsKeyOption.obspKey(keyAdded, "connectivities")
        for (name, m) in [(distancesKey, nn.distanceMatrix()), (connectivitiesKey, connectivities)] {
            adata.obsp.removeAll { $0.name == name }
            adata.obsp.append((name, AnnMatrix(.csr(m))))
        }
        adata.uns.removeAll { $0.name == keyAdded }
        adata.uns.append((keyAdded, .dict([
            ("connectivities_key", .string(connectivitiesKey)),
            ("distances_key", .string(distancesKey)),
            ("params", .dict([("n_neighbors", .integer(Int64(nNeighbors))), ("method", .string("umap")),
                              ("random_state", .integer(Int64(seed))), ("metric", .string("euclidean")), ("use_rep", .string(embedding.useRep))])),
        ])))
        Provenance.record(&adata, parameters: [("use_rep", .string(embedding.useRep)), ("n_neighbors", .number(Double(nNeighbors))),
                                               ("method", .string(method.rawValue))])
        try stage.write(adata, into: input.whole)
    }
}

extension NeighborSearch: ExpressibleByArgument {}
