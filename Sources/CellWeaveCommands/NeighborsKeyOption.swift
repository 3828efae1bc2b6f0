import ArgumentParser
import CellWeaveCore
import CellWeaveIO

/// Which neighbours graph (from cellweave neighbors or scanpy) a stage reads.
struct NeighborsKeyOption: ParsableArguments {
    @Option(help: "uns key of the neighbours graph (its connectivities are obsp connectivities, or <key>_connectivities).")
    var neighborsKey = "neighbors"

    /// The obsp key of a graph's "distances" or "connectivities", as scanpy names them: bare for the
    /// default graph, prefixed by the uns key otherwise.
    static func obspKey(_ graph: String, _ matrix: String) -> String { graph == "neighbors" ? matrix : graph + "_" + matrix }

    /// The graph's connectivities from `file`, checked to be cells x cells.
    func connectivities(_ file: String, cells: Int) throws -> CSRMatrix {
        let key = Self.obspKey(neighborsKey, "connectivities")
        let m: CSRMatrix
        do {
            m = try H5adReader.matrix(path: file, at: "obsp/" + key).toCSR()
        } catch let e as InputError where e.kind == .missingObject {
            throw ValidationError("\(e.description) (run cellweave neighbors first)")
        }
        guard m.rows == cells, m.cols == cells else {
            throw ValidationError("\(file): obsp/\(key) is \(m.rows) x \(m.cols), not cells x cells (\(cells))")
        }
        return m
    }
}
