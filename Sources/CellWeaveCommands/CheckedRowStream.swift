import ArgumentParser
import CellWeaveCore
import CellWeaveIO

/// The counts of an .h5ad read block by block for a streamed stage (`--max-memory`), each block
/// checked as a whole matrix is, the warning for non-integer values given once.
final class CheckedRowStream {
    let file: String
    let matrix: String
    let stream: CSRRowStream
    private let check: CountsCheck
    private var warned = false

    /// `matrix`: the counts' HDF5 path (`/X`, `/layers/counts`, `/raw/X`).
    /// `streaming`: what reads the rows, for the errors.
    init(file: String, matrix: String, check: CountsCheck, streaming: String = "--max-memory") throws {
        try Self.requireH5ad(file, streaming: streaming)
        self.file = file
        self.matrix = matrix
        self.check = check
        stream = try CSRRowStream(file: file, matrix: matrix)
    }

    /// Rows are read from .h5ad files alone.
    static func requireH5ad(_ file: String, streaming: String) throws {
        guard try CountMatrixLoader.detect(file) == .h5ad else { throw ValidationError("\(file): \(streaming) reads counts from an .h5ad") }
    }

    /// The file's obs and var tables (of these counts) describe the matrix's cells and genes.
    func requireShape(cells: Int, genes: Int) throws {
        guard stream.rows == cells, stream.cols == genes else {
            throw InputError(.mismatch, file: file, .hdf5Path(matrix), "\(stream.rows) x \(stream.cols), but obs has \(cells) cells and var \(genes) genes")
        }
    }

    /// Cells `range`, in `columns` (all by default), checked.
    func rows(_ range: Range<Int>, columns: [Int]? = nil) throws -> CSRMatrix {
        let block = try stream.rows(range)
        let counts = try columns.map { try block.selectingColumns($0) } ?? block
        if try check.check(counts, input: file, location: matrix == "/X" ? nil : matrix, firstCell: range.lowerBound, warn: !warned) { warned = true }
        return counts
    }
}
