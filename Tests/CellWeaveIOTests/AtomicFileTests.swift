import CellWeaveIO
import Foundation
import Testing

@Suite struct AtomicFileTests {
    /// The temporary a write works in names the output it stands for (how a writer tells that a
    /// file it would link to is the one it replaces).
    @Test func aTemporaryNamesItsOutput() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("atomic-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var seen: String?
        try AtomicFile.write(to: directory + "/a.partial.h5ad") { temporary in
            seen = AtomicFile.destination(ofTemporary: temporary)
            try Data("x".utf8).write(to: URL(fileURLWithPath: temporary))
        }
        #expect(seen == directory + "/a.partial.h5ad")
        #expect(AtomicFile.destination(ofTemporary: directory + "/a.h5ad") == nil)
        #expect(AtomicFile.destination(ofTemporary: "a.h5ad.partial-12") == nil)
    }
}
