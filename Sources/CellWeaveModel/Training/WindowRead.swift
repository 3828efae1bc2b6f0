import Foundation

/// A window's counts read on a thread of its own.
final class WindowRead: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var outcome: Result<TrainingData, Error>?

    init(_ load: @escaping () throws -> TrainingData) {
        let thread = Thread { [self] in
            outcome = Result(catching: load)
            done.signal()
        }
        thread.start()
    }

    func result() throws -> TrainingData {
        finish()
        return try outcome!.get()
    }

    /// Waits for the read to end (at once when it has).
    func finish() {
        done.wait()
        done.signal()
    }
}
