import ArgumentParser
import CellWeaveCore
import CellWeaveIO

/// `--max-memory` of the stages that stream counts (train, embed, score, hvg, pca): the size
/// given, or without one the budget `StreamingChoice` picks when the counts would not fit in the
/// memory free (said in the log); nil reads the counts whole.
enum StreamingBudget {
    static func validate(_ text: String?) throws {
        if let text, MemoryLimit.parse(text) == nil { throw ValidationError("--max-memory: a size such as 1G or 512M, not '\(text)'.") }
    }

    /// `canStream`: whether this run's options allow streaming (checked only without a size given,
    /// where the stage refuses what it cannot stream). `peak`: the stage's in-memory peak in
    /// multiples of the CSR.
    static func choose(_ text: String?, file: String, matrix: String, peak: Double, canStream: Bool = true) throws -> UInt64? {
        if let text { return MemoryLimit.parse(text) }
        guard canStream, let choice = try StreamingChoice.choose(file: file, matrix: matrix, peak: peak) else { return nil }
        Log.info(choice.message)
        return choice.budget
    }
}
