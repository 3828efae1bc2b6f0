import Dispatch

/// Runs `body(part)` for parts 0..<parts, in parallel when parts > 1. Work is split into fixed
/// parts (never by whichever thread is free first), so results depend on the part count only.
public enum ParallelLoop {
    public static func run(parts: Int, _ body: (Int) -> Void) {
        if parts <= 1 { body(0) } else { DispatchQueue.concurrentPerform(iterations: parts, execute: body) }
    }

    /// The p-th of `parts` contiguous pieces of 0..<n.
    public static func range(_ p: Int, of parts: Int, _ n: Int) -> Range<Int> { (n * p / parts)..<(n * (p + 1) / parts) }
}
