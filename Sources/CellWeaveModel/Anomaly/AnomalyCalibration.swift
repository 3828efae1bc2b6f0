/// Calibrates anomaly scores against reference cells that did not fit the model (DESIGN.md
/// section 5): a robust z-score, the conformal p-value (1 + #{reference >= s}) / (n + 1), and
/// Benjamini-Hochberg q-values over the scored cells, which control the false discovery rate for
/// such p-values (Bates et al. 2023).
public struct AnomalyCalibration: Sendable {
    public let reference: [Double]
    public let median: Double
    /// MAD / Phi^-1(3/4) (1.4826 MAD): the standard deviation of a normal reference.
    public let scale: Double

    public enum CalibrationError: Error, CustomStringConvertible, Equatable {
        case tooFewReferenceCells(found: Int, needed: Int, alpha: Double)

        public var description: String {
            switch self {
            case let .tooFewReferenceCells(found, needed, alpha):
                return "the reference set has \(found) cells; at least \(needed) are needed for a p-value of \(alpha) to be reachable "
                    + "(the smallest conformal p-value is 1 / (n + 1))"
            }
        }
    }

    /// Reference cells needed for a p-value of `alpha` to be reachable: below that no cell can be
    /// flagged, though the p-values stay valid (only coarse).
    public static func flaggableReferenceSize(alpha: Double) -> Int { Int((1 / alpha).rounded(.up)) }

    /// `requireFlaggable`: refuse a reference too small for any cell to be flagged at `alpha`
    /// (otherwise only an empty one is refused).
    public init(reference scores: [Double], alpha: Double, requireFlaggable: Bool = true) throws {
        let needed = requireFlaggable ? Self.flaggableReferenceSize(alpha: alpha) : 1
        guard scores.count >= needed else { throw CalibrationError.tooFewReferenceCells(found: scores.count, needed: needed, alpha: alpha) }
        let sorted = scores.sorted(), center = Self.median(sorted)
        reference = sorted
        median = center
        scale = 1.482602218505602 * Self.median(sorted.map { abs($0 - center) }.sorted())
    }

    static func median(_ sorted: [Double]) -> Double {
        let n = sorted.count
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }

    public func z(_ score: Double) -> Double { scale > 0 ? (score - median) / scale : (score > median ? .infinity : 0) }

    public func pValue(_ score: Double) -> Double {
        // Reference scores at or above `score`: those after the first index whose value is >= score.
        var lo = 0, hi = reference.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if reference[mid] < score { lo = mid + 1 } else { hi = mid }
        }
        return Double(1 + reference.count - lo) / Double(reference.count + 1)
    }

    /// Benjamini-Hochberg adjusted p-values (as scipy.stats.false_discovery_control, method "bh").
    public static func benjaminiHochberg(_ p: [Double]) -> [Double] {
        let m = p.count
        let order = p.indices.sorted { p[$0] < p[$1] || (p[$0] == p[$1] && $0 < $1) }
        var q = [Double](repeating: 0, count: m)
        var running = 1.0
        for rank in stride(from: m, through: 1, by: -1) {
            let i = order[rank - 1]
            running = min(running, p[i] * Double(m) / Double(rank))
            q[i] = running
        }
        return q
    }
}
