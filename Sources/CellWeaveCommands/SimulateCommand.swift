import ArgumentParser
import CellWeaveCore
import CellWeaveIO
import CellWeaveSimulation
import Foundation

struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Simulate UMI counts with known cell types (obs cell_type) and batch effects (obs batch), to test pipelines; with --proteins, CITE-seq-like protein counts too.")

    @Option(name: .shortAndLong, help: "The .h5ad to write.") var output: String
    @Option(help: "Number of cells.") var cells = 3000
    @Option(help: "Number of genes.") var genes = 1000
    @Option(help: "Number of cell types.") var cellTypes = 4
    @Option(help: "Number of batches.") var batches = 3
    @Option(help: "Fraction of genes differentially expressed in each cell type.") var deFraction = 0.1
    @Option(help: "Standard deviation of each gene's log batch factor (0: no batch effect).") var batchEffect = 0.5
    @Option(help: "Negative binomial inverse dispersion.") var theta = 10.0
    @Option(help: "Median counts per cell (library sizes are log-normal around it; default e^7.5, about 1808).") var librarySize: Double?
    @Option(help: "Fraction of cells given an aberrant program (obs aberrant; var is_aberrant_gene).") var aberrantFraction = 0.0
    @Option(help: "Genes in the aberrant program, half up and half down.") var aberrantGenes = 60
    @Option(help: "Fold change of the aberrant program's genes.") var aberrantFoldChange = 4.0
    @Option(parsing: .upToNextOption, help: "Batches (0-based) whose cells may be aberrant (default: all).")
    var aberrantBatches: [Int] = []
    @Option(help: "Gene programs running across all cells (obs programK_activity, uniform in [0, 1]; var program): each a set of genes whose log expression rises with the activity.")
    var programs = 0
    @Option(help: "Genes per gene program (disjoint between programs).") var programGenes = 30
    @Option(help: "Log fold change of a program's genes at activity 1.") var programLogFoldChange = 3.0
    @Option(help: "Proteins of a CITE-seq antibody panel (0: RNA only); written as modality prot of an .h5mu, or obsm protein_expression of an .h5ad.")
    var proteins = 0
    @Option(parsing: .upToNextOption, help: "Batches (0-based) without an antibody panel: their cells have no protein.")
    var proteinMissingBatches: [Int] = []
    @Option(help: "Share of the other cells whose protein is not measured.") var proteinMissingFraction = 0.0
    @Option(help: "The last this many cell types share the RNA of the first ones and differ in protein only.") var proteinOnlyTypes = 0
    @Option(help: "Random seed; the same seed gives the same counts.") var seed: UInt64 = 0
    @OptionGroup var compression: CompressionOption

    func validate() throws {
        guard cells >= 1, genes >= 1, cellTypes >= 1, batches >= 1 else { throw ValidationError("sizes must be at least 1") }
        guard (0...1).contains(deFraction), batchEffect >= 0, theta > 0 else {
            throw ValidationError("--de-fraction must be in 0...1, --batch-effect >= 0 and --theta > 0")
        }
        if let librarySize, librarySize <= 0 { throw ValidationError("--library-size must be positive") }
        guard proteins >= 0, (0..<1).contains(proteinMissingFraction), proteinOnlyTypes >= 0, 2 * proteinOnlyTypes <= cellTypes else {
            throw ValidationError("--proteins must be >= 0, --protein-missing-fraction in [0, 1), --protein-only-types at most half the cell types")
        }
        if proteinOnlyTypes > 0 && proteins < 2 * proteinOnlyTypes { throw ValidationError("--protein-only-types needs at least two proteins per such type") }
        guard (0..<1).contains(aberrantFraction), aberrantGenes >= 0, aberrantFoldChange > 0 else {
            throw ValidationError("--aberrant-fraction must be in [0, 1), --aberrant-genes >= 0 and --aberrant-fold-change > 0")
        }
        guard programs >= 0, programGenes >= 1, programs * programGenes <= genes else {
            throw ValidationError("--programs must be >= 0 and --program-genes >= 1, with programs x program genes at most --genes")
        }
    }

    func run() throws {
        var simulator = CountSimulator()
        (simulator.cells, simulator.genes, simulator.cellTypes, simulator.batches) = (cells, genes, cellTypes, batches)
        (simulator.deFraction, simulator.batchEffect, simulator.theta) = (deFraction, batchEffect, theta)
        if let librarySize { simulator.logLibrarySize.location = Foundation.log(librarySize) }
        (simulator.aberrantFraction, simulator.aberrantGenes, simulator.aberrantFoldChange) = (aberrantFraction, aberrantGenes, aberrantFoldChange)
        if !aberrantBatches.isEmpty { simulator.aberrantBatches = Set(aberrantBatches) }
        (simulator.programs, simulator.programGenes, simulator.programLogFoldChange) = (programs, programGenes, programLogFoldChange)
        simulator.proteinOnlyTypes = proteinOnlyTypes
        (simulator.protein.proteins, simulator.protein.missingFraction) = (proteins, proteinMissingFraction)
        simulator.protein.missingBatches = Set(proteinMissingBatches)
        guard proteins > 0 || MuDataFileWriter.isH5mu(output) else {
            // Written as drawn, 65,536 cells at a time: the matrix is never whole in memory.
            try H5adWriter.write(to: output, compression: compression.hdf5) { file in
                let x = try CSRBlockWriter(in: file, name: "X", cols: genes, compression: compression.hdf5)
                var adata = try simulator.simulate(seed: seed, blockCells: 65_536) { try x.append($0) }
                try x.finish()
                Provenance.record(&adata, parameters: [])
                return adata
            }
            Log.info("\(output): \(cells) cells x \(genes) genes, \(cellTypes) cell types, \(batches) batches, seed \(seed)")
            return
        }
        var mdata = try simulator.simulateCITEseq(seed: seed)
        Provenance.record(&mdata.uns, parameters: [])
        try MuDataFileWriter.write(mdata, to: output, compression: compression.hdf5)
        let measured = mdata.modality(.protein)?.cells.count ?? 0
        Log.info("\(output): \(cells) cells x \(genes) genes and \(proteins) proteins (measured in \(measured) cells), "
                 + "\(cellTypes) cell types, \(batches) batches, seed \(seed)")
    }
}
