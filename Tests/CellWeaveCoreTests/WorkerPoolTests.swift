import Foundation
import Synchronization
import Testing
@testable import CellWeaveCore

@Suite struct WorkerPoolTests {
    /// Many short passes, as a training step makes: every part of every pass runs exactly once,
    /// and a pass returns only after all its parts are done (the sums are read right after).
    @Test func everyPartOfEveryPassRunsOnce() {
        let parts = min(ProcessInfo.processInfo.activeProcessorCount, 4)
        // Each part writes only its own slot; the caller reads them after the pass.
        let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: parts)
        defer { counts.deallocate() }
        counts.initialize(repeating: 0)
        for pass in 1...20_000 {
            ParallelLoop.run(parts: parts) { part in counts[part] += 1 }
            guard counts.allSatisfy({ $0 == pass }) else {
                Issue.record("after pass \(pass) the parts ran \(Array(counts)) times")
                return
            }
        }
    }

    /// A pass inside a part, passes from several threads at once and passes of more parts than
    /// processors all complete (the busy pool hands them to libdispatch).
    @Test func nestedConcurrentAndWidePassesComplete() {
        let total = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 3) { _ in
            for _ in 0..<500 {
                ParallelLoop.run(parts: 2) { _ in
                    ParallelLoop.run(parts: 2) { _ in total.add(1, ordering: .relaxed) }
                }
                ParallelLoop.run(parts: ProcessInfo.processInfo.activeProcessorCount + 3) { _ in total.add(1, ordering: .relaxed) }
            }
        }
        #expect(total.load(ordering: .relaxed) == 3 * 500 * (4 + ProcessInfo.processInfo.activeProcessorCount + 3))
    }

    /// After the workers have gone to sleep, a new pass still wakes them.
    @Test func passAfterIdleWakesTheWorkers() {
        let parts = min(ProcessInfo.processInfo.activeProcessorCount, 4)
        for _ in 0..<3 {
            ParallelLoop.run(parts: parts) { _ in }
            Thread.sleep(forTimeInterval: 0.05)
            let ran = Atomic<Int>(0)
            ParallelLoop.run(parts: parts) { _ in ran.add(1, ordering: .relaxed) }
            #expect(ran.load(ordering: .relaxed) == parts)
        }
    }
}
