import ArgumentParser
import CellWeaveAnalysis
import CellWeaveCore

struct ClusterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Leiden clusters of the neighbours graph (from cellweave neighbors or scanpy) into obs, as scanpy.tl.leiden writes them.",
        discussion: "Modularity with --resolution (the RB configuration model); clusters are numbered by decreasing size.")

    @OptionGroup var stage: StageArguments
    @Option(help: "Resolution: higher gives more, smaller clusters.") var resolution = 1.0
    @Option(help: "The obs column to write.") var keyAdded = "leiden"
    @OptionGroup var neighbors: NeighborsKeyOption
    @Option(help: "Seed of the node orders.") var seed: UInt64 = 0

    func validate() throws {
        guard resolution > 0 else { throw ValidationError("--resolution must be positive.") }
    }

    func run() throws {
        let input = try stage.load(needsCounts: false)
        var adata = input.adata
        let connectivities = try neighbors.connectivities(stage.input, cells: adata.nObs)
        var leiden = Leiden()
        leiden.resolution = resolution
        leiden.seed = seed
        let graph = WeightedGraph(symmetric: connectivities)
        let labels = Log.timed("Leiden at resolution \(resolution)") { leiden.cluster(graph) }
        let count = (labels.max() ?? -1) + 1
        Log.info("\(count) clusters, modularity \(String(format: "%.4f", graph.modularity(labels, resolution: resolution)))")
        try adata.obs.setColumn(keyAdded, .categorical(codes: labels.map(Int32.init), categories: .strings((0..<count).map(String.init)), ordered: false))
        adata.uns.removeAll { $0.name == keyAdded }
        adata.uns.append((keyAdded, .dict([("params", .dict([("resolution", .number(resolution)), ("random_state", .integer(Int64(seed))),
                                                             ("n_iterations", .integer(-1))]))])))
        Provenance.record(&adata, parameters: [("resolution", .number(resolution)), ("seed", .number(Double(seed)))])
        try stage.write(adata, into: input.whole)
    }
}
