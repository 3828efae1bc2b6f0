import Dispatch

/// Runs `body(part)` for parts 0..<parts, in parallel when parts > 1. Work is split into fixed
/// parts (never by whichever thread is free first), so results depend on the part count only.
/// The parts run on `WorkerPool.shared`'s threads, which wait for work spinning before they sleep:
/// a training step is dozens of parallel passes of tens of microseconds each, about what waking a
/// sleeping thread costs. A call made while the pool is busy (from inside a part, or from another
/// thread), or with more parts than processors, goes to libdispatch instead.
public enum ParallelLoop {
    public static func run(parts: Int, _ body: (Int) -> Void) {
        if parts <= 1 { return body(0) }
        if !WorkerPool.shared.run(parts: parts, body) { DispatchQueue.concurrentPerform(iterations: parts, execute: body) }
    }

    /// An element-wise pass over fewer values than this runs on one thread: starting a parallel
    /// pass costs about what a thread does to some thousands of values.
    public static let elementwiseMinimum = 8_192

    /// body(range) for each of `parts` contiguous pieces of 0..<n, in parallel; on one thread (one
    /// piece, 0..<n) when the pass touches fewer than `minimum` values. The pieces depend on the
    /// part count only, as `run`'s do.
    public static func forEachRange(of n: Int, parts: Int, values: Int, minimum: Int = elementwiseMinimum,
                                    _ body: (Range<Int>) -> Void) {
        let pieces = values >= minimum ? parts : 1
        run(parts: pieces) { p in body(range(p, of: pieces, n)) }
    }

    /// The p-th of `parts` contiguous pieces of 0..<n.
    public static func range(_ p: Int, of parts: Int, _ n: Int) -> Range<Int> { (n * p / parts)..<(n * (p + 1) / parts) }
}
