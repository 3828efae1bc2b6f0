import CCrashGuard
import Foundation

/// Writes an output under a temporary name beside it and renames it into place on success, so a
/// failed or interrupted stage never leaves a half-written file that make would take as done,
/// and never damages a file that was there before. A stage killed outright (SIGKILL) leaves its
/// temporary behind: the next write of the same output removes those of processes that are gone.
public enum AtomicFile {
    public static func write(to path: String, _ body: (_ temporaryPath: String) throws -> Void) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        try requireDirectory(of: path)
        let prefix = ".\(url.lastPathComponent)\(marker)"
        removeAbandoned(in: directory, prefix: prefix)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(prefix + "\(getpid())").path
        // Removed by the crash guard too, should libhdf5 fault on a corrupt input while writing.
        cw_crash_guard_set_partial_output(temporary)
        defer { cw_crash_guard_set_partial_output(nil) }
        do {
            try body(temporary)
        } catch {
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw OutputError(path: path, message: "could not move the finished file into place: \(reason)")
        }
    }

    /// An error unless the directory `path` would be written in exists: a stage with several
    /// outputs checks them all before it writes the first, so that none is replaced by a run that
    /// then fails on another.
    public static func requireDirectory(of path: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw OutputError(path: path, message: "the directory \(directory) does not exist")
        }
    }

    /// Files written in pieces (a header, then block after block), each through a handle on its
    /// temporary; all appear, in `paths`' order, when `body` returns, none if it throws.
    public static func write(to paths: [String], _ body: (_ handles: [FileHandle]) throws -> Void) throws {
        func nest(_ rest: ArraySlice<String>, _ opened: [FileHandle]) throws {
            guard let path = rest.first else { return try body(opened) }
            try write(to: path) { temporary in
                guard FileManager.default.createFile(atPath: temporary, contents: nil), let handle = FileHandle(forWritingAtPath: temporary) else {
                    throw OutputError(path: path, message: "could not create \(temporary)")
                }
                defer { try? handle.close() }
                try nest(rest.dropFirst(), opened + [handle])
            }
        }
        try nest(paths[...], [])
    }

    /// Temporaries are named `.<name>.partial-<pid>` beside the output.
    private static let marker = ".partial-"

    /// The output that `path` is a temporary of (nil when it is none), e.g. to tell whether a
    /// file being written replaces another.
    public static func destination(ofTemporary path: String) -> String? {
        let url = URL(fileURLWithPath: path), name = url.lastPathComponent
        guard name.hasPrefix("."), let end = name.range(of: marker, options: .backwards) else { return nil }
        return url.deletingLastPathComponent().appendingPathComponent(String(name[name.index(after: name.startIndex)..<end.lowerBound])).path
    }

    /// Temporaries `prefix<pid>` of processes that no longer exist.
    private static func removeAbandoned(in directory: String, prefix: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count)), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            unlink(directory + "/" + name)
        }
    }

    /// Writes `data` atomically.
    public static func write(_ data: Data, to path: String) throws {
        try write(to: path) { temporary in
            do {
                try data.write(to: URL(fileURLWithPath: temporary))
            } catch {
                throw OutputError(path: path, message: "could not write: \(error.localizedDescription)")
            }
        }
    }
}
