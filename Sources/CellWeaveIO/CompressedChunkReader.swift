import CZlib
import Foundation

/// Reads a file that may be gzip-compressed (zlib detects it; plain files pass through) in large
/// chunks. A background thread decompresses ahead while the caller parses, so on two cores
/// parsing hides behind decompression.
public final class CompressedChunkReader: @unchecked Sendable {
    public let path: String
    private let chunkSize: Int
    private let maxQueued: Int
    private let condition = NSCondition()
    private var queue: [[UInt8]] = []
    private var finished = false
    private var failure: InputError?
    private var cancelled = false
    private var thread: Thread?
    private var consumedCompressedBytes: Int64 = 0
    private var queuedOffsets: [Int64] = []
    /// Size of the file on disk, for progress.
    public let fileSize: Int64

    public init(path: String, chunkSize: Int = 1 << 20, readAhead: Int = 4) throws {
        self.path = path
        self.chunkSize = chunkSize
        self.maxQueued = readAhead
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw InputError(.notFound, file: path, "cannot open file for reading")
        }
        guard let handle = gzopen(path, "rb") else {
            throw InputError(.notFound, file: path, "cannot open file for reading")
        }
        gzbuffer(handle, 1 << 18)
        fileSize = ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber)?.int64Value ?? 0
        let box = GzHandle(handle)
        let t = Thread { [unowned self] in self.produce(box) }
        t.stackSize = 1 << 20
        thread = t
        t.start()
    }

    deinit {
        condition.lock()
        cancelled = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }

    /// The next chunk of decompressed bytes, or nil at the end of the file.
    public func nextChunk() throws -> [UInt8]? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !finished { condition.wait() }
        if !queue.isEmpty {
            let chunk = queue.removeFirst()
            consumedCompressedBytes = queuedOffsets.removeFirst()
            condition.broadcast()
            return chunk
        }
        if let failure { throw failure }
        return nil
    }

    /// Fraction of the file (compressed bytes) handed out so far.
    public var fractionRead: Double {
        condition.lock()
        defer { condition.unlock() }
        return fileSize > 0 ? min(1, Double(consumedCompressedBytes) / Double(fileSize)) : 0
    }

    private func produce(_ box: GzHandle) {
        defer {
            gzclose(box.handle)
            condition.lock()
            finished = true
            condition.broadcast()
            condition.unlock()
        }
        while true {
            condition.lock()
            while queue.count >= maxQueued && !cancelled { condition.wait() }
            let stop = cancelled
            condition.unlock()
            if stop { return }

            var error: InputError?
            let chunk = [UInt8](unsafeUninitializedCapacity: chunkSize) { buffer, count in
                var filled = 0
                while filled < chunkSize {
                    let n = gzread(box.handle, buffer.baseAddress! + filled, UInt32(chunkSize - filled))
                    if n < 0 {
                        var code: Int32 = 0
                        let message = String(cString: gzerror(box.handle, &code))
                        error = InputError(.compression, file: path, "corrupt or truncated compressed data (\(message))")
                        break
                    }
                    if n == 0 {
                        // zlib reports a gzip stream cut short only through gzerror at the end.
                        var code: Int32 = 0
                        let message = String(cString: gzerror(box.handle, &code))
                        if code != Z_OK {
                            error = InputError(.compression, file: path, "corrupt or truncated compressed data (\(message))")
                        }
                        break
                    }
                    filled += Int(n)
                }
                count = filled
            }
            condition.lock()
            if let error {
                failure = error
                condition.unlock()
                return
            }
            if chunk.isEmpty {
                condition.unlock()
                return
            }
            queue.append(chunk)
            queuedOffsets.append(Int64(gzoffset(box.handle)))
            condition.broadcast()
            condition.unlock()
        }
    }
}

/// zlib's gzFile, handed to the reading thread.
private final class GzHandle: @unchecked Sendable {
    let handle: gzFile
    init(_ handle: gzFile) { self.handle = handle }
}
