import CZlib
import Foundation

/// Reads a file that may be gzip-compressed (zlib detects it; plain files pass through) in large
/// chunks. For a large file a background thread decompresses ahead while the caller parses, so
/// on two cores parsing hides behind decompression; a small one is read on the caller's thread,
/// where a thread would cost more than it hides.
public final class CompressedChunkReader: @unchecked Sendable {
    public let path: String
    private let chunkSize: Int
    private let maxQueued: Int
    private let gz: GzHandle
    private let condition = NSCondition()
    private var queue: [[UInt8]] = []
    private var finished = false
    private var failure: InputError?
    private var cancelled = false
    private var consumedCompressedBytes: Int64 = 0
    private var queuedOffsets: [Int64] = []
    /// Read ahead on a thread (false: `nextChunk` reads itself).
    private let readsAhead: Bool
    /// Size of the file on disk, for progress.
    public let fileSize: Int64

    /// Files below this size on disk are read without a read-ahead thread.
    static let readAheadThreshold: Int64 = 1 << 20

    public init(path: String, chunkSize: Int = 1 << 20, readAhead: Int = 4) throws {
        self.path = path
        self.maxQueued = readAhead
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw InputError(.notFound, file: path, "cannot open file for reading")
        }
        guard let handle = gzopen(path, "rb") else {
            throw InputError(.notFound, file: path, "cannot open file for reading")
        }
        gz = GzHandle(handle)
        fileSize = ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber)?.int64Value ?? 0
        // A small file needs neither zlib's large buffers nor a full-size chunk: a chunk is only
        // a unit of hand-over, and a few times the file's size covers most of what a small gzip
        // file inflates to.
        gzbuffer(handle, UInt32(min(1 << 18, max(1 << 13, fileSize))))
        self.chunkSize = Int(min(Int64(chunkSize), max(1 << 14, 8 * fileSize)))
        readsAhead = fileSize >= Self.readAheadThreshold
        if readsAhead {
            let t = Thread { [unowned self] in self.produce() }
            t.stackSize = 1 << 20
            t.start()
        }
    }

    deinit {
        if readsAhead {
            condition.lock()
            cancelled = true
            condition.broadcast()
            while !finished { condition.wait() }
            condition.unlock()
        } else {
            gzclose(gz.handle)
        }
    }

    /// The next chunk of decompressed bytes, or nil at the end of the file.
    public func nextChunk() throws -> [UInt8]? {
        if !readsAhead {
            if finished { return nil }
            let chunk = try readChunk()
            consumedCompressedBytes = Int64(gzoffset(gz.handle))
            finished = chunk == nil
            return chunk
        }
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

    /// Up to one chunk of decompressed bytes, nil at the end of the file.
    private func readChunk() throws -> [UInt8]? {
        var error: InputError?
        let chunk = [UInt8](unsafeUninitializedCapacity: chunkSize) { buffer, count in
            var filled = 0
            while filled < chunkSize {
                let n = gzread(gz.handle, buffer.baseAddress! + filled, UInt32(chunkSize - filled))
                // zlib reports a gzip stream cut short only through gzerror at the end.
                if n <= 0 {
                    var code: Int32 = 0
                    let message = String(cString: gzerror(gz.handle, &code))
                    if n < 0 || code != Z_OK {
                        error = InputError(.compression, file: path, "corrupt or truncated compressed data (\(message))")
                    }
                    break
                }
                filled += Int(n)
            }
            count = filled
        }
        if let error { throw error }
        return chunk.isEmpty ? nil : chunk
    }

    private func produce() {
        defer {
            gzclose(gz.handle)
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
            do {
                guard let chunk = try readChunk() else { return }
                condition.lock()
                queue.append(chunk)
                queuedOffsets.append(Int64(gzoffset(gz.handle)))
                condition.broadcast()
                condition.unlock()
            } catch {
                condition.lock()
                failure = error as? InputError
                condition.unlock()
                return
            }
        }
    }
}

/// zlib's gzFile, handed to the reading thread.
private final class GzHandle: @unchecked Sendable {
    let handle: gzFile
    init(_ handle: gzFile) { self.handle = handle }
}
