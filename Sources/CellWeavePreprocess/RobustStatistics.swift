/// Median and median absolute deviation, ignoring NaN (empty cells have NaN percentages).
public enum RobustStatistics {
    public static func median(_ values: [Double]) -> Double {
        let v = values.filter { !$0.isNaN }.sorted()
        guard !v.isEmpty else { return .nan }
        return v.count % 2 == 1 ? v[v.count / 2] : (v[v.count / 2 - 1] + v[v.count / 2]) / 2
    }

    /// Unscaled MAD, as scipy.stats.median_abs_deviation's default.
    public static func medianAbsoluteDeviation(_ values: [Double]) -> Double {
        let m = median(values)
        return median(values.map { abs($0 - m) })
    }
}
