import CellWeaveCore

/// Whether a stage reads an h5ad's counts whole or streams them (`CSRRowStream`) when the user has
/// not said: it streams when the counts in memory, times what the stage holds beside them, would
/// not fit in the memory free now, and then within half of that memory.
public struct StreamingChoice {
    public let budget: UInt64
    /// What was chosen and why (the sizes compared), for the log.
    public let message: String

    /// Nil (read whole) for anything but a CSR matrix in an .h5ad, or counts that fit.
    /// `matrix`: the counts' element (`X`, `layers/counts`, `raw/X`); `peak`: the stage's peak
    /// memory in multiples of the CSR.
    public static func choose(file: String, matrix: String, peak: Double) throws -> StreamingChoice? {
        guard file.hasSuffix(".h5ad"), let h5 = try? HDF5File.open(file), h5.isGroup(matrix) else { return nil }
        let group = try h5.group(matrix)
        guard group.encodingType == "csr_matrix" else { return nil }
        let shape = try group.integerArrayAttribute("shape")
        guard shape.count == 2 else { return nil }
        let csr = 8.0 * Double(try group.dataset("indices").elementCount) + 8.0 * Double(shape[0] + 1)
        let free = MemoryLimit.available
        guard csr * peak > Double(free) else { return nil }
        return StreamingChoice(budget: free / 2, message: "\(file): its counts take \(MemoryLimit.describe(UInt64(csr))) in memory (about "
                               + "\(MemoryLimit.describe(UInt64(csr * peak))) at this stage's peak), more than the \(MemoryLimit.describe(free)) free: "
                               + "streaming them within \(MemoryLimit.describe(free / 2)) (--max-memory to choose)")
    }
}
