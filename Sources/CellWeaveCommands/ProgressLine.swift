import Foundation

/// Shows reading progress: a rewritten line on a terminal, a log line per quarter otherwise.
final class ProgressLine {
    private let interactive = isatty(STDERR_FILENO) != 0
    private let start = Date()
    private var lastShown = -1

    func update(_ file: String, _ fraction: Double) {
        let percent = Int(fraction * 100)
        let step = interactive ? percent : percent / 25 * 25
        guard step > lastShown else { return }
        lastShown = step
        let elapsed = Date().timeIntervalSince(start)
        let eta = fraction > 0.01 ? String(format: ", %.0f s left", elapsed * (1 - fraction) / fraction) : ""
        let name = (file as NSString).lastPathComponent
        if interactive {
            FileHandle.standardError.write(Data("\rreading \(name): \(percent)%\(eta)   ".utf8))
            if percent >= 100 { FileHandle.standardError.write(Data("\n".utf8)) }
        } else {
            Log.info("reading \(name): \(step)%")
        }
    }
}
