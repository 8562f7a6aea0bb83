import Foundation

/// Where the evaluator reads series from: the sample store, or a test's input series.
public protocol SeriesSource {
    /// Every series whose labels satisfy all matchers, with its samples whose time is within
    /// `[mint, maxt]` (staleness markers included), oldest first.
    func select(_ matchers: [LabelMatcher], mint: Int64, maxt: Int64) -> [(labels: Labels, samples: ArraySlice<Sample>)]
}

public struct VectorSample: Sendable, Equatable {
    public var labels: Labels
    public var value: Double
    public init(labels: Labels, value: Double) {
        self.labels = labels
        self.value = value
    }
}

public enum QueryValue {
    case scalar(Double)
    case vector([VectorSample])
    case matrix([(Labels, [Sample])])
    case string(String)

    /// A rule's result as a vector (a scalar becomes one sample without labels).
    public var asVector: [VectorSample] {
        switch self {
        case .vector(let v): return v
        case .scalar(let s): return [VectorSample(labels: Labels(), value: s)]
        default: return []
        }
    }
}

public struct EvaluationError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Evaluates an expression at one instant with Prometheus 2.x semantics: a 5-minute lookback for instant
/// selectors, staleness markers ending a series, ranges closed at both ends, extrapolated rates with counter
/// resets, and one-to-one vector matching.
public struct Evaluator {
    public var source: any SeriesSource
    public var lookbackDelta: Int64 = 300_000

    public init(source: any SeriesSource, lookbackDelta: Int64 = 300_000) {
        self.source = source
        self.lookbackDelta = lookbackDelta
    }

    public func evaluate(_ e: Expr, at t: Int64) throws(EvaluationError) -> QueryValue {
        switch e {
        case .number(let v): return .scalar(v)
        case .string(let s): return .string(s)
        case .paren(let inner): return try evaluate(inner, at: t)
        case .selector(let s): return .vector(instant(s, at: t))
        case .matrix(let s, let r): return .matrix(range(s, r, at: t).map { ($0.0, Array($0.1)) })
        case .negate(let inner):
            switch try evaluate(inner, at: t) {
            case .scalar(let v): return .scalar(-v)
            case .vector(let v): return .vector(v.map { VectorSample(labels: $0.labels.withoutName, value: -$0.value) })
            default: throw EvaluationError("unary minus on a non-numeric value")
            }
        case .call(let f, let args): return try call(f, args, at: t)
        case .aggregate(let op, let inner, let grouping, let without):
            guard case .vector(let v) = try evaluate(inner, at: t) else { throw EvaluationError("aggregation over a non-vector") }
            return .vector(aggregate(op, v, grouping: grouping, without: without))
        case .binary(let op, let l, let r, let returnBool, let matching):
            return try binary(op, try evaluate(l, at: t), try evaluate(r, at: t), returnBool: returnBool, matching: matching)
        }
    }

    // MARK: Selectors

    func instant(_ s: VectorSelector, at t: Int64) -> [VectorSample] {
        let ref = t - s.offset
        var out: [VectorSample] = []
        for (labels, samples) in source.select(s.matchers, mint: ref - lookbackDelta, maxt: ref) {
            guard let last = samples.last, !Sample.isStale(last.v) else { continue }
            out.append(VectorSample(labels: labels, value: last.v))
        }
        return out
    }

    func range(_ s: VectorSelector, _ r: Int64, at t: Int64) -> [(Labels, ArraySlice<Sample>)] {
        let ref = t - s.offset
        var out: [(Labels, ArraySlice<Sample>)] = []
        for (labels, samples) in source.select(s.matchers, mint: ref - r, maxt: ref) {
            let points = samples.contains { Sample.isStale($0.v) } ? ArraySlice(samples.filter { !Sample.isStale($0.v) }) : samples
            if !points.isEmpty { out.append((labels, points)) }
        }
        return out
    }

    // MARK: Functions

    private func call(_ f: Function, _ args: [Expr], at t: Int64) throws(EvaluationError) -> QueryValue {
        switch f {
        case .time: return .scalar(Double(t) / 1000)
        case .vector:
            guard case .scalar(let v) = try evaluate(args[0], at: t) else { throw EvaluationError("vector() needs a scalar") }
            return .vector([VectorSample(labels: Labels(), value: v)])
        case .scalar:
            guard case .vector(let v) = try evaluate(args[0], at: t) else { throw EvaluationError("scalar() needs a vector") }
            return .scalar(v.count == 1 ? v[0].value : .nan)
        case .absent:
            guard case .vector(let v) = try evaluate(args[0], at: t) else { throw EvaluationError("absent() needs a vector") }
            guard v.isEmpty else { return .vector([]) }
            return .vector([VectorSample(labels: Self.absentLabels(args[0]), value: 1)])
        case .clampMin, .clampMax:
            guard case .vector(let v) = try evaluate(args[0], at: t), case .scalar(let bound) = try evaluate(args[1], at: t) else {
                throw EvaluationError("\(f.rawValue) needs a vector and a scalar")
            }
            return .vector(
                v.map {
                    let x = f == .clampMin ? Swift.max($0.value, bound) : Swift.min($0.value, bound)
                    return VectorSample(labels: $0.labels.withoutName, value: $0.value.isNaN || bound.isNaN ? .nan : x)
                })
        case .histogramQuantile:
            guard case .scalar(let q) = try evaluate(args[0], at: t), case .vector(let v) = try evaluate(args[1], at: t) else {
                throw EvaluationError("histogram_quantile needs a scalar and a vector")
            }
            return .vector(Self.histogramQuantile(q, v))
        case .rate, .irate, .increase, .delta, .avgOverTime, .minOverTime, .maxOverTime, .sumOverTime, .countOverTime:
            guard case .matrix(let s, let r) = args[0] else { throw EvaluationError("\(f.rawValue) needs a range selector") }
            var out: [VectorSample] = []
            let rangeEnd = t - s.offset
            let rangeStart = rangeEnd - r
            for (labels, points) in range(s, r, at: t) {
                if let v = Self.rangeFunction(f, points, rangeStart: rangeStart, rangeEnd: rangeEnd, range: r) {
                    out.append(VectorSample(labels: labels.withoutName, value: v))
                }
            }
            return .vector(out)
        }
    }

    static func rangeFunction(_ f: Function, _ input: ArraySlice<Sample>, rangeStart: Int64, rangeEnd: Int64, range: Int64) -> Double? {
        let p = input
        let first = p.startIndex
        let last = p.endIndex - 1
        switch f {
        case .rate: return extrapolatedRate(p, rangeStart: rangeStart, rangeEnd: rangeEnd, range: range, isCounter: true, isRate: true)
        case .increase: return extrapolatedRate(p, rangeStart: rangeStart, rangeEnd: rangeEnd, range: range, isCounter: true, isRate: false)
        case .delta: return extrapolatedRate(p, rangeStart: rangeStart, rangeEnd: rangeEnd, range: range, isCounter: false, isRate: false)
        case .irate:
            guard p.count >= 2 else { return nil }
            let newest = p[last]
            let previous = p[last - 1]
            let change = newest.v < previous.v ? newest.v : newest.v - previous.v
            let interval = newest.t - previous.t
            guard interval != 0 else { return nil }
            return change / (Double(interval) / 1000)
        case .avgOverTime:
            var mean = 0.0
            var count = 0.0
            for s in p {
                count += 1
                if mean.isInfinite {
                    if s.v.isInfinite && (mean > 0) == (s.v > 0) { continue }
                    if !s.v.isInfinite && !s.v.isNaN { continue }
                }
                mean += s.v / count - mean / count
            }
            return mean
        case .minOverTime:
            var m = p[first].v
            for s in p.dropFirst() where s.v < m || m.isNaN { m = s.v }
            return m
        case .maxOverTime:
            var m = p[first].v
            for s in p.dropFirst() where s.v > m || m.isNaN { m = s.v }
            return m
        case .sumOverTime: return p.reduce(0) { $0 + $1.v }
        case .countOverTime: return Double(p.count)
        default: return nil
        }
    }

    /// Prometheus's extrapolatedRate (promql/functions.go, 2.x).
    static func extrapolatedRate(_ p: ArraySlice<Sample>, rangeStart: Int64, rangeEnd: Int64, range: Int64, isCounter: Bool, isRate: Bool) -> Double? {
        guard p.count >= 2 else { return nil }
        let firstSample = p[p.startIndex]
        let lastSample = p[p.endIndex - 1]
        var result = lastSample.v - firstSample.v
        if isCounter {
            var lastValue = 0.0
            for s in p {
                if s.v < lastValue { result += lastValue }
                lastValue = s.v
            }
        }
        var durationToStart = Double(firstSample.t - rangeStart) / 1000
        let durationToEnd = Double(rangeEnd - lastSample.t) / 1000
        let sampledInterval = Double(lastSample.t - firstSample.t) / 1000
        let averageBetween = sampledInterval / Double(p.count - 1)
        if isCounter && result > 0 && firstSample.v >= 0 {
            let durationToZero = sampledInterval * (firstSample.v / result)
            if durationToZero < durationToStart { durationToStart = durationToZero }
        }
        let threshold = averageBetween * 1.1
        var extrapolateTo = sampledInterval
        extrapolateTo += durationToStart < threshold ? durationToStart : averageBetween / 2
        extrapolateTo += durationToEnd < threshold ? durationToEnd : averageBetween / 2
        result *= extrapolateTo / sampledInterval
        if isRate { result /= Double(range) / 1000 }
        return result
    }

    static func absentLabels(_ e: Expr) -> Labels {
        var selector: VectorSelector?
        if case .selector(let s) = e { selector = s }
        if case .paren(let inner) = e, case .selector(let s) = inner { selector = s }
        guard let s = selector else { return Labels() }
        var pairs: [String: String] = [:]
        var duplicated: Set<String> = []
        for m in s.matchers where m.kind == .equal && m.name != Labels.metricName {
            if pairs[m.name] != nil { duplicated.insert(m.name) }
            pairs[m.name] = m.value
        }
        for d in duplicated { pairs[d] = nil }
        return Labels(pairs)
    }

    /// Prometheus's bucketQuantile over classic `le` buckets.
    static func histogramQuantile(_ q: Double, _ v: [VectorSample]) -> [VectorSample] {
        var groups: [Labels: [(Double, Double)]] = [:]
        var order: [Labels] = []
        for s in v {
            guard let leText = s.labels["le"], let le = parseFloat(leText) else { continue }
            let key = s.labels.removing([Labels.metricName, "le"])
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append((le, s.value))
        }
        return order.map { key in VectorSample(labels: key, value: bucketQuantile(q, groups[key]!)) }
    }

    static func bucketQuantile(_ q: Double, _ input: [(Double, Double)]) -> Double {
        if q.isNaN { return .nan }
        if q < 0 { return -.infinity }
        if q > 1 { return .infinity }
        var buckets = input.sorted { $0.0 < $1.0 }
        guard let last = buckets.last, last.0 == .infinity else { return .nan }
        // Coalesce buckets with the same upper bound, then make the counts monotonic.
        var merged: [(Double, Double)] = []
        for b in buckets {
            if let l = merged.last, l.0 == b.0 { merged[merged.count - 1].1 += b.1 } else { merged.append(b) }
        }
        buckets = merged
        var maxSoFar = -Double.infinity
        for i in buckets.indices {
            if buckets[i].1 > maxSoFar { maxSoFar = buckets[i].1 } else if buckets[i].1 < maxSoFar { buckets[i].1 = maxSoFar }
        }
        guard buckets.count >= 2 else { return .nan }
        let observations = buckets[buckets.count - 1].1
        guard observations != 0 else { return .nan }
        var rank = q * observations
        var b = 0
        while b < buckets.count - 1 && !(buckets[b].1 >= rank) { b += 1 }
        if b == buckets.count - 1 { return buckets[buckets.count - 2].0 }
        if b == 0 && buckets[0].0 <= 0 { return buckets[0].0 }
        var start = 0.0
        let end = buckets[b].0
        var count = buckets[b].1
        if b > 0 {
            start = buckets[b - 1].0
            count -= buckets[b - 1].1
            rank -= buckets[b - 1].1
        }
        return start + (end - start) * (rank / count)
    }

    /// Go's ParseFloat for the forms the exposition uses (`+Inf`, `-Inf`, `NaN`, decimals).
    public static func parseFloat(_ s: String) -> Double? {
        switch s.lowercased() {
        case "+inf", "inf": return .infinity
        case "-inf": return -.infinity
        case "nan": return .nan
        default:
            // Swift also reads hexadecimal floats ("0x5"); Go's exposition values never are.
            if s.contains("x") || s.contains("X") || s.contains("p") || s.contains("P") { return nil }
            return Double(s)
        }
    }

    // MARK: Aggregation

    func aggregate(_ op: AggregateOp, _ v: [VectorSample], grouping: [String], without: Bool) -> [VectorSample] {
        let set = Set(grouping)
        let dropped = set.union([Labels.metricName])
        // `by`: the group is the grouping labels' values, a cheaper key than a label set.
        let byNames = set.sorted()
        var groups: [[String]: (labels: Labels, value: Double, count: Double)] = [:]
        var order: [[String]] = []
        for s in v {
            let key: [String]
            let labels: Labels?
            if without {
                let l = s.labels.removing(dropped)
                key = l.items.flatMap { [$0.name, $0.value] }
                labels = l
            } else {
                key = byNames.map { s.labels[$0] ?? "" }
                labels = nil
            }
            if let g = groups[key] {
                var value = g.value
                switch op {
                case .sum, .avg: value += s.value
                case .min: if value > s.value || value.isNaN { value = s.value }
                case .max: if value < s.value || value.isNaN { value = s.value }
                case .count: value += 1
                }
                groups[key] = (g.labels, value, g.count + 1)
            } else {
                order.append(key)
                groups[key] = (labels ?? s.labels.keeping(set), op == .count ? 1 : s.value, 1)
            }
        }
        return order.map { key in
            let g = groups[key]!
            return VectorSample(labels: g.labels, value: op == .avg ? g.value / g.count : g.value)
        }
    }

    // MARK: Binary operators

    static func apply(_ op: BinaryOp, _ l: Double, _ r: Double) -> (Double, Bool) {
        switch op {
        case .add: return (l + r, true)
        case .sub: return (l - r, true)
        case .mul: return (l * r, true)
        case .div: return (l / r, true)
        case .mod: return (fmod(l, r), true)
        case .pow: return (Foundation.pow(l, r), true)
        case .eq: return (l, l == r)
        case .ne: return (l, l != r)
        case .gt: return (l, l > r)
        case .lt: return (l, l < r)
        case .ge: return (l, l >= r)
        case .le: return (l, l <= r)
        case .and, .or, .unless: return (l, true)
        }
    }

    private func binary(_ op: BinaryOp, _ lv: QueryValue, _ rv: QueryValue, returnBool: Bool, matching: VectorMatching) throws(EvaluationError) -> QueryValue {
        switch (lv, rv) {
        case (.scalar(let l), .scalar(let r)):
            let (v, keep) = Self.apply(op, l, r)
            return .scalar(op.isComparison ? (keep ? 1 : 0) : v)
        case (.vector(let l), .scalar(let r)):
            return .vector(vectorScalar(op, l, r, swap: false, returnBool: returnBool))
        case (.scalar(let l), .vector(let r)):
            return .vector(vectorScalar(op, r, l, swap: true, returnBool: returnBool))
        case (.vector(let l), .vector(let r)):
            switch op {
            case .and, .or, .unless: return .vector(setOperation(op, l, r, matching))
            default: return .vector(try vectorVector(op, l, r, returnBool: returnBool, matching: matching))
            }
        default: throw EvaluationError("binary operator on unsupported operand types")
        }
    }

    private func vectorScalar(_ op: BinaryOp, _ v: [VectorSample], _ s: Double, swap: Bool, returnBool: Bool) -> [VectorSample] {
        var out: [VectorSample] = []
        out.reserveCapacity(v.count)
        for e in v {
            var (value, keep) = swap ? Self.apply(op, s, e.value) : Self.apply(op, e.value, s)
            if op.isComparison && swap { value = e.value }
            if returnBool {
                value = keep ? 1 : 0
                keep = true
            }
            guard keep else { continue }
            let dropName = !op.isComparison || returnBool
            out.append(VectorSample(labels: dropName ? e.labels.withoutName : e.labels, value: value))
        }
        return out
    }

    /// The labels two samples are matched on: the `on` labels, or all but the `ignoring` ones and the name.
    struct Signature {
        let on: Bool
        let names: Set<String>
        init(_ m: VectorMatching) {
            on = m.on
            names = m.on ? Set(m.labels) : Set(m.labels).union([Labels.metricName])
        }
        func callAsFunction(_ l: Labels) -> Labels { on ? l.keeping(names) : l.removing(names) }
    }

    private func vectorVector(_ op: BinaryOp, _ l: [VectorSample], _ r: [VectorSample], returnBool: Bool, matching: VectorMatching) throws(EvaluationError) -> [VectorSample] {
        let signature = Signature(matching)
        let resultLabels = Set(matching.labels)
        var right: [Labels: VectorSample] = [:]
        right.reserveCapacity(r.count)
        for s in r {
            let sig = signature(s.labels)
            if right[sig] != nil {
                throw EvaluationError("found duplicate series for the match group \(sig) on the right hand-side of the operation; many-to-many matching not allowed: matching labels must be unique on one side")
            }
            right[sig] = s
        }
        var matchedSignatures: Set<Labels> = []
        var out: [VectorSample] = []
        var results: Set<Labels> = []
        for ls in l {
            let sig = signature(ls.labels)
            guard let rs = right[sig] else { continue }
            var (value, keep) = Self.apply(op, ls.value, rs.value)
            if returnBool {
                value = keep ? 1 : 0
                keep = true
            }
            if !matchedSignatures.insert(sig).inserted {
                throw EvaluationError("multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)")
            }
            guard keep else { continue }
            var labels = ls.labels
            if !op.isComparison || returnBool { labels = labels.withoutName }
            labels = matching.on ? labels.keeping(resultLabels) : labels.removing(resultLabels)
            if !results.insert(labels).inserted {
                throw EvaluationError("multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)")
            }
            out.append(VectorSample(labels: labels, value: value))
        }
        return out
    }

    private func setOperation(_ op: BinaryOp, _ l: [VectorSample], _ r: [VectorSample], _ matching: VectorMatching) -> [VectorSample] {
        let signature = Signature(matching)
        let rightSigs = Set(r.map { signature($0.labels) })
        switch op {
        case .and: return l.filter { rightSigs.contains(signature($0.labels)) }
        case .unless: return l.filter { !rightSigs.contains(signature($0.labels)) }
        default:
            let leftSigs = Set(l.map { signature($0.labels) })
            return l + r.filter { !leftSigs.contains(signature($0.labels)) }
        }
    }
}
