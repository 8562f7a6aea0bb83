/// Samples a collector reports at scrape time, in the Prometheus data model.
public struct MetricFamilySnapshot: Sendable, Equatable {
    public enum Kind: String, Sendable { case counter, gauge, histogram, untyped }

    public struct Sample: Sendable, Equatable {
        /// Appended to the family name: "" for counters and gauges, `_bucket`, `_sum`, `_count` for histograms.
        public var suffix: String
        public var labels: [(String, String)]
        public var value: Double

        public init(suffix: String = "", labels: [(String, String)] = [], value: Double) {
            self.suffix = suffix
            self.labels = labels
            self.value = value
        }

        public static func == (a: Sample, b: Sample) -> Bool {
            a.suffix == b.suffix && a.value == b.value && a.labels.map(\.0) == b.labels.map(\.0) && a.labels.map(\.1) == b.labels.map(\.1)
        }
    }

    public var name: String
    public var help: String
    public var kind: Kind
    public var samples: [Sample]

    public init(name: String, help: String, kind: Kind, samples: [Sample]) {
        self.name = name
        self.help = help
        self.kind = kind
        self.samples = samples
    }

    /// A family with one unlabelled value.
    public static func single(_ name: String, _ help: String, _ kind: Kind, _ value: Double) -> MetricFamilySnapshot {
        MetricFamilySnapshot(name: name, help: help, kind: kind, samples: [Sample(value: value)])
    }
}

/// A source of metrics asked for its samples at scrape time. Registered at the composition root; one that
/// throws or hangs is skipped for that scrape (and counted), never breaking `/metrics`.
public protocol MetricsCollector: Sendable {
    /// Names the collector in `abm_metrics_collector_failures_total{collector=...}`.
    var name: String { get }
    func collect() async throws -> [MetricFamilySnapshot]
}

/// Renders families in the Prometheus text exposition format (version 0.0.4).
public enum ExpositionWriter {
    public static func write(_ families: [MetricFamilySnapshot], into out: inout String) {
        for f in families {
            out += "# HELP \(f.name) \(escapeHelp(f.help))\n# TYPE \(f.name) \(f.kind.rawValue)\n"
            for s in f.samples {
                out += f.name + s.suffix
                if !s.labels.isEmpty {
                    out += "{" + s.labels.map { "\($0.0)=\"\(escapeLabel($0.1))\"" }.joined(separator: ",") + "}"
                }
                out += " " + format(s.value) + "\n"
            }
        }
    }

    public static func format(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }

    static func escapeLabel(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    static func escapeHelp(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }
}
