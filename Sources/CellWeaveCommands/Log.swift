import Foundation

/// Progress and timing lines on stderr, so stdout stays clean for data (inspect --json).
enum Log {
    /// Off on all but the first of the processes of a data-parallel run, which would repeat it.
    nonisolated(unsafe) static var enabled = true

    static func info(_ message: String) {
        guard enabled else { return }
        FileHandle.standardError.write(Data("cellweave: \(message)\n".utf8))
    }

    static func timed<T>(_ what: String, _ body: () throws -> T) rethrows -> T {
        let start = Date()
        let result = try body()
        info("\(what): \(String(format: "%.3f", Date().timeIntervalSince(start))) s")
        return result
    }
}
