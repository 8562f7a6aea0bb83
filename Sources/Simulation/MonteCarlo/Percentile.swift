/// Order statistics with numpy's defaults: linear interpolation between closest ranks (Hyndman-Fan type 7).
public enum Statistics {
    /// The p-th percentile (0...100) of `values`, which need not be sorted.
    public static func percentile(_ values: [Double], _ p: Double) -> Double {
        percentile(sorted: values.sorted(), p)
    }

    public static func percentile(sorted x: [Double], _ p: Double) -> Double {
        guard !x.isEmpty else { return 0 }
        let h = Double(x.count - 1) * p / 100
        let lo = Int(h.rounded(.down))
        let hi = min(lo + 1, x.count - 1)
        return x[lo] + (h - Double(lo)) * (x[hi] - x[lo])
    }

    public static func mean(_ x: [Double]) -> Double {
        guard !x.isEmpty else { return 0 }
        var s = 0.0
        for v in x { s += v }
        return s / Double(x.count)
    }

    /// Standard deviation with `ddof` (0 = population, 1 = sample).
    public static func std(_ x: [Double], ddof: Int = 0) -> Double {
        guard x.count > ddof else { return 0 }
        let m = mean(x)
        var s = 0.0
        for v in x { s += (v - m) * (v - m) }
        return (s / Double(x.count - ddof)).squareRoot()
    }
}
