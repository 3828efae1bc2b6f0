import Foundation

/// The memory a read may plan to allocate: this machine's physical memory, or less where the
/// process's cgroup (a container, a batch job) allows less or CELLWEAVE_MAX_MEMORY (e.g. `2G`)
/// sets a limit. A declared shape beyond it is refused before anything is allocated, with an
/// error, instead of an out-of-memory kill.
public enum MemoryLimit {
    public static let bytes: UInt64 = {
        var limit = ProcessInfo.processInfo.physicalMemory
        if let text = try? String(contentsOfFile: "/sys/fs/cgroup/memory.max", encoding: .utf8),
           let cgroup = UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            limit = min(limit, cgroup)
        }
        if let text = ProcessInfo.processInfo.environment["CELLWEAVE_MAX_MEMORY"], let set = parse(text) { limit = min(limit, set) }
        return limit
    }()

    /// Memory free for this process now: the kernel's MemAvailable, within `bytes`.
    public static var available: UInt64 {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
              let kib = UInt64(line.split(separator: " ").dropFirst().first ?? "") else { return bytes }
        return min(bytes, kib * 1024)
    }

    /// `bytes` as `free -h` would say it (GiB with one decimal, MiB or KiB).
    public static func describe(_ bytes: UInt64) -> String {
        bytes >= 1 << 30 ? String(format: "%.1f GiB", Double(bytes) / 1_073_741_824) : bytes >= 1 << 20 ? "\(bytes >> 20) MiB" : "\(bytes >> 10) KiB"
    }

    /// A size such as `1G`, `512M`, `64k` or a number of bytes (binary multiples, as `free -h`).
    public static func parse(_ text: String) -> UInt64? {
        let t = text.trimmingCharacters(in: .whitespaces).uppercased().replacingOccurrences(of: "IB", with: "").replacingOccurrences(of: "B", with: "")
        let units: [Character: UInt64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        guard let last = t.last else { return nil }
        let (number, scale) = units[last].map { (t.dropLast(), $0) } ?? (Substring(t), 1)
        guard let value = Double(number.trimmingCharacters(in: .whitespaces)), value >= 0, value * Double(scale) < 1.8e19 else { return nil }
        return UInt64(value * Double(scale))
    }

    /// Nil when `bytes` (nil: more than 2^63) fit, else a sentence for an error message.
    public static func refusal(needing bytes: Int?) -> String? {
        if let bytes, UInt64(bytes) <= Self.bytes { return nil }
        let gib = { (b: Double) in String(format: "%.1f GiB", b / 1_073_741_824) }
        return "would need \(bytes.map { gib(Double($0)) } ?? "more than 2^63 bytes") in memory, more than this process may use ("
            + gib(Double(Self.bytes)) + (Self.bytes < ProcessInfo.processInfo.physicalMemory ? ", below the machine's \(gib(Double(ProcessInfo.processInfo.physicalMemory)))" : "") + ")"
    }
}
