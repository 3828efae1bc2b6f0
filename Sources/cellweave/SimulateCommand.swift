import ArgumentParser
import CellWeaveCore
import CellWeaveIO
import CellWeaveSimulation
import Foundation

struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Simulate UMI counts with known cell types (obs cell_type) and batch effects (obs batch), to test pipelines.")

    @Option(name: .shortAndLong, help: "The .h5ad to write.") var output: String
    @Option(help: "Number of cells.") var cells = 3000
    @Option(help: "Number of genes.") var genes = 1000
    @Option(help: "Number of cell types.") var cellTypes = 4
    @Option(help: "Number of batches.") var batches = 3
    @Option(help: "Fraction of genes differentially expressed in each cell type.") var deFraction = 0.1
    @Option(help: "Standard deviation of each gene's log batch factor (0: no batch effect).") var batchEffect = 0.5
    @Option(help: "Negative binomial inverse dispersion.") var theta = 10.0
    @Option(help: "Median counts per cell (library sizes are log-normal around it; default e^7.5, about 1808).") var librarySize: Double?
    @Option(help: "Random seed; the same seed gives the same counts.") var seed: UInt64 = 0

    func validate() throws {
        guard cells >= 1, genes >= 1, cellTypes >= 1, batches >= 1 else { throw ValidationError("sizes must be at least 1") }
        guard (0...1).contains(deFraction), batchEffect >= 0, theta > 0 else {
            throw ValidationError("--de-fraction must be in 0...1, --batch-effect >= 0 and --theta > 0")
        }
        if let librarySize, librarySize <= 0 { throw ValidationError("--library-size must be positive") }
    }

    func run() throws {
        var simulator = CountSimulator()
        (simulator.cells, simulator.genes, simulator.cellTypes, simulator.batches) = (cells, genes, cellTypes, batches)
        (simulator.deFraction, simulator.batchEffect, simulator.theta) = (deFraction, batchEffect, theta)
        if let librarySize { simulator.logLibrarySize.location = Foundation.log(librarySize) }
        var adata = try simulator.simulate(seed: seed)
        Provenance.record(&adata, parameters: [])
        try H5adWriter.write(adata, to: output)
        Log.info("\(output): \(cells) cells x \(genes) genes, \(cellTypes) cell types, \(batches) batches, seed \(seed)")
    }
}
