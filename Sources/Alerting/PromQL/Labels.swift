/// A label set, kept sorted by name: the identity of a series (`__name__` is the metric name).
public struct Labels: Hashable, Sendable, Comparable, CustomStringConvertible {
    public struct Label: Hashable, Sendable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public private(set) var items: [Label]

    public init() { items = [] }

    public init(_ pairs: [(String, String)]) {
        var seen: [String: String] = [:]
        for (n, v) in pairs where !v.isEmpty { seen[n] = v }
        items = seen.map { Label($0.key, $0.value) }.sorted { $0.name < $1.name }
    }

    public init(_ dictionary: [String: String]) { self.init(dictionary.map { ($0.key, $0.value) }) }

    public static let metricName = "__name__"

    public var name: String? { self[Self.metricName] }
    public var isEmpty: Bool { items.isEmpty }

    public subscript(name: String) -> String? {
        for l in items where l.name == name { return l.value }
        return nil
    }

    /// Sets a label (an empty value removes it, as in Prometheus).
    public mutating func set(_ name: String, _ value: String) {
        if let i = items.firstIndex(where: { $0.name == name }) {
            if value.isEmpty { items.remove(at: i) } else { items[i].value = value }
            return
        }
        guard !value.isEmpty else { return }
        let at = items.firstIndex(where: { $0.name > name }) ?? items.count
        items.insert(Label(name, value), at: at)
    }

    private init(sorted: [Label]) { items = sorted }

    public func removing(_ names: Set<String>) -> Labels { Labels(sorted: items.filter { !names.contains($0.name) }) }

    public func keeping(_ names: Set<String>) -> Labels { Labels(sorted: items.filter { names.contains($0.name) }) }

    public var withoutName: Labels {
        // Usually first, but upper-case label names sort before "__name__".
        guard let i = items.firstIndex(where: { $0.name == Self.metricName }) else { return self }
        var rest = items
        rest.remove(at: i)
        return Labels(sorted: rest)
    }

    public var dictionary: [String: String] { Dictionary(uniqueKeysWithValues: items.map { ($0.name, $0.value) }) }

    public static func < (a: Labels, b: Labels) -> Bool {
        for (x, y) in zip(a.items, b.items) {
            if x.name != y.name { return x.name < y.name }
            if x.value != y.value { return x.value < y.value }
        }
        return a.items.count < b.items.count
    }

    /// `name{a="b", c="d"}` as Prometheus prints a series.
    public var description: String {
        let rest = items.filter { $0.name != Self.metricName }
            .map { "\($0.name)=\"\(Self.escape($0.value))\"" }.joined(separator: ", ")
        let n = name ?? ""
        return rest.isEmpty && !n.isEmpty ? n : "\(n){\(rest)}"
    }

    static func escape(_ s: String) -> String {
        var o = ""
        for c in s {
            switch c {
            case "\\": o += "\\\\"
            case "\"": o += "\\\""
            case "\n": o += "\\n"
            default: o.append(c)
            }
        }
        return o
    }
}

/// One point of a series. Prometheus's staleness marker is a NaN with a fixed bit pattern.
public struct Sample: Sendable, Equatable {
    public var t: Int64  // milliseconds since the epoch
    public var v: Double
    public init(t: Int64, v: Double) {
        self.t = t
        self.v = v
    }

    public static let staleNaN = Double(bitPattern: 0x7ff0_0000_0000_0002)
    public static func isStale(_ v: Double) -> Bool { v.bitPattern == staleNaN.bitPattern }
}
