import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Threads that run the parts of one parallel pass at a time (`ParallelLoop`). The caller runs part
/// 0 and each worker k part k; a worker waits for the next pass spinning for a millisecond, then
/// sleeps until woken. Created on first use, grown to the largest part count asked.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// The pass: its number (bits 16 and up) and part count (the low 16 bits), published together
    /// so that a worker never pairs one pass's number with another's count.
    private let pass = Atomic<Int>(0)
    /// Workers done with the current pass.
    private let finished = Atomic<Int>(0)
    /// Workers that are, or are about to be, asleep.
    private let sleeping = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    /// Guards a worker's last look at the pass before it sleeps, so that a pass published meanwhile wakes it.
    private let wake = NSCondition()
    /// The current pass's body, set before the pass is published and read by its workers only.
    private nonisolated(unsafe) var body: ((Int) -> Void)?
    /// Changed only while `busy` is held.
    private nonisolated(unsafe) var workers = 0
    /// Spins (an atomic load each, about a third of a nanosecond) before a caller whose workers
    /// are not done yields its core.
    private let spins = 100_000
    /// How long a waiting worker spins before it sleeps. Waking a sleeping thread costs tens of
    /// microseconds here, and the serial stretches between a step's passes (small layers, batch
    /// norm) often last longer than that: workers that slept after 30 us left the caller waiting
    /// for their wake-up at most passes (perf: 8% of a shallow epoch's samples).
    private let spinNanoseconds: UInt64 = 1_000_000
    /// The processors this process may run on; at most 2^16 - 1 parts fit in `pass`.
    private let processors = min(ProcessInfo.processInfo.activeProcessorCount, 1 << 16 - 1)

    /// Runs body(0..<parts) and returns true, or returns false at once when the pool is already running
    /// a pass or when there are more parts than processors (spinning threads would then take turns on
    /// a core); then nothing ran.
    func run(parts: Int, _ work: (Int) -> Void) -> Bool {
        guard parts <= processors, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        defer { busy.store(false, ordering: .releasing) }
        while workers < parts - 1 { startWorker(index: workers + 1) }
        withoutActuallyEscaping(work) { work in
            body = work
            finished.store(0, ordering: .relaxed)
            let number = (pass.load(ordering: .relaxed) >> 16) + 1
            pass.store(number << 16 | parts, ordering: .sequentiallyConsistent)
            if sleeping.load(ordering: .sequentiallyConsistent) > 0 { wake.lock(); wake.broadcast(); wake.unlock() }
            work(0)
            // A worker that the scheduler put aside runs sooner if this thread gives up its core.
            var spun = 0
            while finished.load(ordering: .acquiring) < parts - 1 {
                spun += 1
                if spun >= spins { sched_yield() }
            }
            body = nil
        }
        return true
    }

    private func startWorker(index: Int) {
        workers += 1
        // The pass it has seen is taken here: the thread may start after the pass it is made for is published.
        let seen = pass.load(ordering: .relaxed)
        let thread = Thread { [self] in workerLoop(index: index, seen: seen) }
        thread.stackSize = 8 << 20
        thread.start()
    }

    private func workerLoop(index: Int, seen start: Int) -> Never {
        var seen = start
        while true {
            var current = pass.load(ordering: .acquiring), spun = 0, deadline: UInt64 = 0
            while current == seen {
                spun += 1
                // The clock is read every 1,024 spins only.
                if spun & 1023 == 0 {
                    let now = DispatchTime.now().uptimeNanoseconds
                    if deadline == 0 {
                        deadline = now + spinNanoseconds
                    } else if now >= deadline {
                        wake.lock()
                        sleeping.add(1, ordering: .sequentiallyConsistent)
                        while pass.load(ordering: .sequentiallyConsistent) == seen { wake.wait() }
                        sleeping.subtract(1, ordering: .sequentiallyConsistent)
                        wake.unlock()
                        deadline = 0
                    }
                }
                current = pass.load(ordering: .acquiring)
            }
            seen = current
            // A pass of fewer parts leaves this worker out; it neither runs nor counts itself.
            guard index < current & 0xFFFF else { continue }
            body!(index)
            finished.add(1, ordering: .releasing)
        }
    }
}
