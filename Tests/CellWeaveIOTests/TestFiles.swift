import CZlib
import Foundation

/// A scratch directory per test (removed with it), and writers for plain and gzipped files.
final class TestFiles {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cellweave-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let p = path(name)
        try FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        if name.hasSuffix(".gz") {
            let bytes = Array(text.utf8)
            let f = gzopen(p, "wb")!
            _ = bytes.withUnsafeBytes { gzwrite(f, $0.baseAddress, UInt32($0.count)) }
            gzclose(f)
        } else {
            try text.write(toFile: p, atomically: false, encoding: .utf8)
        }
        return p
    }

    /// A Cell Ranger v3 directory under `name`.
    @discardableResult
    func tenXDirectory(_ name: String, matrix: String, features: [String], barcodes: [String]) throws -> String {
        try write("\(name)/matrix.mtx.gz", matrix)
        try write("\(name)/features.tsv.gz", features.map { $0 + "\n" }.joined())
        try write("\(name)/barcodes.tsv.gz", barcodes.map { $0 + "\n" }.joined())
        return path(name)
    }

    /// The repository root, for fixtures under reference/.
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func reference(_ relative: String) -> String { repositoryRoot.appendingPathComponent("reference/" + relative).path }

    static let mouse10k = repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/data/mouse10k_chr1").path
}
