import CellWeaveCore

/// Integration metrics of one embedding, as scib-metrics' Benchmarker computes them (neighbours
/// exact up to NeighborSearch.exactLimit cells, NN-descent beyond, as `search` says): iLISI and cLISI on 90 neighbours, graph connectivity and Leiden NMI/ARI on 15,
/// silhouettes on the embedding. All are scaled so that 1 is best. The aggregates are means over
/// the metrics computed here, a subset of scib's (no kBET, PC regression or isolated labels).
public struct IntegrationMetrics: Codable, Sendable, Equatable {
    public var cells: Int
    /// Neighbours the LISI scores looked at: 90, or every other cell of a smaller data set
    /// (perplexity a third of it, as scib-metrics derives it).
    public var lisiNeighbors: Int?
    public var batches: Int
    public var labels: Int?
    public var iLISI: Double
    public var batchSilhouette: Double?
    public var graphConnectivity: Double?
    public var cLISI: Double?
    public var labelSilhouette: Double?
    public var nmi: Double?
    public var ari: Double?
    /// The Leiden resolution (of 0.2, 0.4, ..., 2) whose clusters gave the best NMI.
    public var leidenResolution: Double?
    public var batchCorrection: Double?
    public var bioConservation: Double?
    public var total: Double?

    enum CodingKeys: String, CodingKey {
        case cells, lisiNeighbors = "lisi_neighbors", batches, labels
        case iLISI = "ilisi", batchSilhouette = "silhouette_batch", graphConnectivity = "graph_connectivity"
        case cLISI = "clisi", labelSilhouette = "silhouette_label", nmi = "nmi_leiden", ari = "ari_leiden"
        case leidenResolution = "leiden_resolution", batchCorrection = "batch_correction"
        case bioConservation = "bio_conservation", total
    }

    /// Cells needed: LISI's perplexity, a third of the neighbours, must be at least 1.
    public static let minimumCells = 4

    /// Neighbours LISI (90) and the graph metrics (15) look at, or every other cell of fewer.
    public static func neighborhoods(cells: Int) -> (lisi: Int, graph: Int) {
        let lisi = min(90, cells - 1)
        return (lisi, min(15, lisi))
    }

    /// `batches` and `labels`: codes per cell. Below 91 cells the neighbourhoods (90 for LISI,
    /// 15 for the graph) shrink to every other cell.
    public static func compute(_ embedding: DenseMatrix, batches: [Int], labels: [Int]?, threads: Int = 1,
                               search: NeighborSearch = .auto) throws -> IntegrationMetrics {
        precondition(embedding.rows >= minimumCells, "integration metrics need at least \(minimumCells) cells")
        let (k, graphK) = neighborhoods(cells: embedding.rows)
        let nn90 = search.neighbors(embedding, k: k, threads: threads)
        var m = IntegrationMetrics(cells: embedding.rows, lisiNeighbors: k, batches: Set(batches).count, labels: labels.map { Set($0).count },
                                   iLISI: LocalInverseSimpsonIndex.integration(nn90, batches: batches))
        guard let labels else { return m }
        let nn15 = nn90.first(graphK)
        m.batchSilhouette = try Silhouette.batchMixing(embedding, batches: batches, cellTypes: labels)
        m.graphConnectivity = GraphConnectivity.score(nn15, labels: labels)
        m.cLISI = LocalInverseSimpsonIndex.label(nn90, labels: labels)
        m.labelSilhouette = (Silhouette.score(embedding, labels: labels) + 1) / 2
        let graph = WeightedGraph(symmetric: UMAPConnectivities.compute(nn15))
        var best: (nmi: Double, ari: Double, resolution: Double)?
        for step in 1...10 {
            var leiden = Leiden()
            leiden.resolution = 0.2 * Double(step)
            let clusters = leiden.cluster(graph)
            let nmi = ClusterAgreement.normalizedMutualInformation(labels, clusters)
            if best == nil || nmi > best!.nmi {
                best = (nmi, ClusterAgreement.adjustedRandIndex(labels, clusters), leiden.resolution)
            }
        }
        (m.nmi, m.ari, m.leidenResolution) = (best!.nmi, best!.ari, best!.resolution)
        let batch = [m.iLISI, m.batchSilhouette!, m.graphConnectivity!], bio = [m.cLISI!, m.labelSilhouette!, m.nmi!, m.ari!]
        m.batchCorrection = batch.reduce(0, +) / Double(batch.count)
        m.bioConservation = bio.reduce(0, +) / Double(bio.count)
        // scib's weighting: 40% batch correction, 60% bio conservation.
        m.total = 0.4 * m.batchCorrection! + 0.6 * m.bioConservation!
        return m
    }
}
