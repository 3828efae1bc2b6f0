import CCrashGuard
import CellWeaveIO
import Foundation

/// libFuzzer harness over CellWeave's readers (`make fuzz`): each input becomes a file, or for
/// a 10x directory its three files split at NUL bytes (matrix.mtx, features.tsv, barcodes.tsv),
/// and is read as users' files are. A reader may refuse an input with an error; it must never
/// crash, trap or hang. The target is chosen by CELLWEAVE_FUZZ_TARGET: mtx, tenx-dir, tenx-h5, h5ad.
///
/// Built with -DFUZZING (and -sanitize=fuzzer,address) main hands over to libFuzzer's driver;
/// built as usual, `cellweave-fuzz TARGET FILE...` replays files through the same code.
enum FuzzInput {
    enum Target: String, CaseIterable { case mtx, tenxDir = "tenx-dir", tenxH5 = "tenx-h5", h5ad }

    static let scratch: String = {
        let dir = (ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp") + "/cellweave-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }()

    /// Reads `bytes` as the target's input; errors are the expected outcome of most inputs.
    static func run(_ target: Target, _ bytes: UnsafeBufferPointer<UInt8>) {
        do {
            switch target {
            case .mtx:
                let path = scratch + "/input.mtx"
                try write(bytes, to: path)
                _ = try MatrixMarketReader.read(path: path)
            case .tenxDir:
                let parts = bytes.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
                for (k, name) in ["matrix.mtx", "features.tsv", "barcodes.tsv"].enumerated() {
                    try write(k < parts.count ? UnsafeBufferPointer(rebasing: parts[k]) : UnsafeBufferPointer(start: nil, count: 0),
                              to: scratch + "/" + name)
                }
                _ = try TenXDirectoryReader.read(directory: scratch)
            case .tenxH5:
                let path = scratch + "/input.h5"
                try write(bytes, to: path)
                _ = try TenXH5Reader.read(path: path)
            case .h5ad:
                let path = scratch + "/input.h5ad"
                try write(bytes, to: path)
                _ = try H5adReader.read(path: path)
            }
        } catch {}
    }

    /// Plain stdio, not Data.write: that one syncs to disk, which dominated a run's time.
    static func write(_ bytes: UnsafeBufferPointer<UInt8>, to path: String) throws {
        guard let file = fopen(path, "wb") else { throw CocoaError(.fileWriteUnknown) }
        defer { fclose(file) }
        if bytes.count > 0, fwrite(bytes.baseAddress, 1, bytes.count, file) != bytes.count { throw CocoaError(.fileWriteUnknown) }
    }
}

#if FUZZING
typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: FuzzCallback) -> CInt

/// SwiftPM links an executable's entry point under this name; it runs libFuzzer's driver.
@_cdecl("cellweave_fuzz_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    guard let target = FuzzInput.Target(rawValue: ProcessInfo.processInfo.environment["CELLWEAVE_FUZZ_TARGET"] ?? "mtx") else {
        fatalError("CELLWEAVE_FUZZ_TARGET: one of mtx, tenx-dir, tenx-h5, h5ad")
    }
    FuzzInput.target = target
    cw_crash_guard_disable()  // libFuzzer reports faults itself, wherever they are
    var count = argc, arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in
        FuzzInput.run(FuzzInput.target, UnsafeBufferPointer(start: data, count: size))
        return 0
    }
}

extension FuzzInput {
    nonisolated(unsafe) static var target = Target.mtx
}
#else
@main
struct Replay {
    static func main() throws {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzInput.Target(rawValue: name) else {
            FileHandle.standardError.write(Data("usage: cellweave-fuzz mtx|tenx-dir|tenx-h5|h5ad FILE...\n".utf8))
            exit(2)
        }
        for file in arguments.dropFirst() {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
            bytes.withUnsafeBufferPointer { FuzzInput.run(target, $0) }
        }
        print("replayed \(arguments.count - 1) inputs through \(name)")
    }
}
#endif
