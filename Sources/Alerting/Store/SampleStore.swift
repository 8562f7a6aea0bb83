/// The samples the rules read: every series of the service's own scrapes, recording-rule results and the
/// `ALERTS` series, kept only as long as some rule can look back (per metric name), so memory stays bounded.
///
/// Staleness follows Prometheus: when a series present in a source's previous batch (a scrape, one rule's
/// output) is missing from its next batch, a staleness marker is appended and instant selectors stop
/// returning it at once instead of after the 5-minute lookback. Not thread-safe; its owner serialises access.
public final class SampleStore: SeriesSource {
    /// A reference type, so appending and expiring mutate in place instead of copying through the dictionary.
    final class Series {
        let labels: Labels
        let retention: Int64
        var samples: [Sample] = []
        var head = 0  // samples before head are expired
        var count: Int { samples.count - head }
        init(labels: Labels, retention: Int64) {
            self.labels = labels
            self.retention = retention
        }
    }

    /// How long to keep samples of a metric name, in milliseconds; nil means the name is not stored.
    public typealias Retention = @Sendable (String?) -> Int64?

    private var series: [Int: Series] = [:]
    private var byLabels: [Labels: Int] = [:]
    private var byName: [String: [Series]] = [:]
    private var nextID = 0
    private var sourceSeries: [String: Set<Int>] = [:]
    private var retentionCache: [String: Int64?] = [:]
    public var retention: Retention {
        didSet { retentionCache = [:] }
    }

    public init(retention: @escaping Retention = { _ in .max }) { self.retention = retention }

    public var seriesCount: Int { series.count }
    public var sampleCount: Int { series.values.reduce(0) { $0 + $1.count } }
    /// Approximate bytes held: 16 per sample plus the series' labels and bookkeeping.
    public var approximateBytes: Int {
        series.values.reduce(0) { total, s in
            total + s.samples.capacity * 16 + 96 + s.labels.items.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 32 }
        }
    }

    private func keeps(_ name: String?) -> Int64? {
        let key = name ?? ""
        if let cached = retentionCache[key] { return cached }
        let r = retention(name)
        retentionCache[key] = r
        return r
    }

    /// Appends one sample (out-of-order samples are dropped, as Prometheus does).
    @discardableResult
    public func append(_ labels: Labels, t: Int64, v: Double) -> Int? {
        let i: Int
        let s: Series
        if let known = byLabels[labels] {
            i = known
            s = series[known]!
        } else {
            guard let keep = keeps(labels.name) else { return nil }
            i = nextID
            nextID += 1
            s = Series(labels: labels, retention: keep)
            series[i] = s
            byLabels[labels] = i
            byName[labels.name ?? "", default: []].append(s)
        }
        if let last = s.samples.last, last.t >= t {
            if last.t == t, !Sample.isStale(v) { s.samples[s.samples.count - 1].v = v }
            return i
        }
        s.samples.append(Sample(t: t, v: v))
        return i
    }

    /// Appends a whole batch from one source at time `t`; series the source produced last time and not now
    /// get a staleness marker.
    public func appendBatch(source: String, _ batch: [(Labels, Double)], at t: Int64) {
        var now = Set<Int>()
        now.reserveCapacity(batch.count)
        for (labels, v) in batch {
            if let i = append(labels, t: t, v: v) { now.insert(i) }
        }
        if let before = sourceSeries[source] {
            for i in before where !now.contains(i) {
                if let s = series[i], let last = s.samples.last, !Sample.isStale(last.v), last.t < t {
                    s.samples.append(Sample(t: t, v: Sample.staleNaN))
                }
            }
        }
        sourceSeries[source] = now
    }

    /// Marks every series of a source stale (the source went away, for example a rule removed by a reload).
    public func retire(source: String, at t: Int64) { appendBatch(source: source, [], at: t) }

    /// Drops samples older than each name's retention, and series left empty.
    public func expire(now t: Int64) {
        var emptied: [Int] = []
        for (i, s) in series {
            // The retention of a name can change with a reload.
            guard let keep = keeps(s.labels.name) else {
                emptied.append(i)
                continue
            }
            let cutoff = keep == .max ? Int64.min : t - keep
            while s.head < s.samples.count && s.samples[s.head].t < cutoff { s.head += 1 }
            if s.head == s.samples.count {
                emptied.append(i)
                continue
            }
            if s.head > 64 && s.head * 2 > s.samples.count {
                s.samples.removeFirst(s.head)
                s.head = 0
            }
        }
        guard !emptied.isEmpty else { return }
        let gone = Set(emptied)
        var goneObjects = Set<ObjectIdentifier>()
        for i in emptied {
            if let s = series.removeValue(forKey: i) {
                byLabels[s.labels] = nil
                goneObjects.insert(ObjectIdentifier(s))
            }
        }
        for (name, list) in byName {
            let kept = list.filter { !goneObjects.contains(ObjectIdentifier($0)) }
            byName[name] = kept.isEmpty ? nil : kept
        }
        for (source, ids) in sourceSeries { sourceSeries[source] = ids.subtracting(gone) }
    }

    public func select(_ matchers: [LabelMatcher], mint: Int64, maxt: Int64) -> [(labels: Labels, samples: ArraySlice<Sample>)] {
        let candidates: [Series]
        var others = matchers
        if let n = matchers.firstIndex(where: { $0.name == Labels.metricName && $0.kind == .equal }) {
            candidates = byName[matchers[n].value] ?? []
            others.remove(at: n)
        } else {
            candidates = Array(series.values)
        }
        var out: [(labels: Labels, samples: ArraySlice<Sample>)] = []
        out.reserveCapacity(candidates.count)
        for s in candidates {
            var ok = true
            for m in others {
                if !m.matches(s.labels[m.name] ?? "") {
                    ok = false
                    break
                }
            }
            guard ok else { continue }
            let lo = Self.lowerBound(s.samples, from: s.head, t: mint)
            var hi = s.samples.count
            while hi > lo && s.samples[hi - 1].t > maxt { hi -= 1 }
            if hi > lo { out.append((s.labels, s.samples[lo..<hi])) }
        }
        return out
    }

    private static func lowerBound(_ a: [Sample], from: Int, t: Int64) -> Int {
        var lo = from
        var hi = a.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if a[mid].t < t { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
