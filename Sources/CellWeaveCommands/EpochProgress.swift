import CellWeaveModel
import Foundation

/// One line per epoch: rewritten on a terminal, about twenty log lines otherwise.
final class EpochProgress {
    private let total: Int
    private let interactive = Log.enabled && isatty(STDERR_FILENO) != 0
    private var elapsed = 0.0

    init(total: Int) { self.total = total }

    func show(_ r: EpochRecord) {
        elapsed += r.seconds
        let left = Double(total - r.epoch) * elapsed / Double(max(r.epoch, 1))
        let validation = r.validationELBO.map { String(format: ", validation ELBO %.2f", $0) } ?? ""
        let line = String(format: "epoch %d/%d: loss %.2f (reconstruction %.2f, KL %.2f x %.2f)", r.epoch, total, r.loss,
                          r.reconstruction, r.kl, r.klWeight) + validation + String(format: ", %.3f s, %.0f s left", r.seconds, left)
        if interactive {
            FileHandle.standardError.write(Data("\r\(line)   ".utf8))
            if r.epoch >= total { FileHandle.standardError.write(Data("\n".utf8)) }
        } else if r.epoch == 1 || r.epoch == total || r.epoch % max(1, total / 20) == 0 {
            Log.info(line)
        }
    }
}
