#if canImport(Glibc)
import Glibc
#endif

/// Feeds complete lines from a `CompressedChunkReader` to a handler, carrying partial lines
/// across chunk boundaries. The handler sees each line without its terminator (and without a
/// trailing '\r') together with its 1-based line number.
struct LineSplitter {
    let reader: CompressedChunkReader
    let progress: ProgressHandler?
    private(set) var lineNumber = 0

    init(reader: CompressedChunkReader, progress: ProgressHandler? = nil) {
        self.reader = reader
        self.progress = progress
    }

    /// Calls `body` for every line. Always inlined, so the caller's per-line work becomes the
    /// body of this loop instead of an indirect call per line.
    @inline(__always)
    mutating func forEachLine(_ body: (UnsafeBufferPointer<UInt8>, Int) throws -> Void) throws {
        var carry: [UInt8] = []
        while let chunk = try reader.nextChunk() {
            progress?(reader.path, reader.fractionRead)
            try chunk.withUnsafeBufferPointer { buf in
                var start = 0
                if !carry.isEmpty {
                    guard let nl = buf.firstIndex(of: UInt8(ascii: "\n")) else {
                        carry.append(contentsOf: buf)
                        return
                    }
                    carry.append(contentsOf: buf[0..<nl])
                    lineNumber += 1
                    try carry.withUnsafeBufferPointer { try body(Self.trimmed($0), lineNumber) }
                    carry.removeAll(keepingCapacity: true)
                    start = nl + 1
                }
                let base = buf.baseAddress!
                var lineStart = start
                let n = buf.count
                // memchr finds the line ends with vector instructions.
                while lineStart < n, let nl = memchr(base + lineStart, 10, n - lineStart) {
                    let i = base.distance(to: nl.assumingMemoryBound(to: UInt8.self))
                    lineNumber += 1
                    try body(Self.trimmed(UnsafeBufferPointer(start: base + lineStart, count: i - lineStart)), lineNumber)
                    lineStart = i + 1
                }
                if lineStart < n { carry.append(contentsOf: UnsafeBufferPointer(start: base + lineStart, count: n - lineStart)) }
            }
        }
        if !carry.isEmpty {
            lineNumber += 1
            try carry.withUnsafeBufferPointer { try body(Self.trimmed($0), lineNumber) }
        }
    }

    @inline(__always)
    static func trimmed(_ line: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        if let last = line.last, last == UInt8(ascii: "\r") {
            return UnsafeBufferPointer(rebasing: line[0..<(line.count - 1)])
        }
        return line
    }

    /// All lines of a small text file (gzipped or not) as strings.
    static func readAllLines(path: String) throws -> [String] {
        var splitter = LineSplitter(reader: try CompressedChunkReader(path: path))
        var lines: [String] = []
        try splitter.forEachLine { line, _ in lines.append(String(decoding: line, as: UTF8.self)) }
        return lines
    }
}
