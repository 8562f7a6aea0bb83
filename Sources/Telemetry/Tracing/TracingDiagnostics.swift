import CoreMetrics
import Logging

/// The span pipeline's own health, from what swift-otel says about itself: its diagnostic logger is this
/// handler, which counts spans exported, spans dropped (a full queue, or a batch whose export failed) and
/// failed exports, and passes warnings and errors on to the service's log (without the header set swift-otel
/// attaches to a failed extraction, which could hold credentials).
///
/// It always asks for debug events (swift-otel reports each exported batch at debug), whatever level the
/// diagnostic logger is given; `OTEL_LOG_LEVEL` sets what is passed on, never what is counted.
public struct TracingDiagnosticsHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let counters: TracingCounters
    private let forward: any LogHandler
    private var forwardLevel: Logger.Level = .warning

    public init(forward: any LogHandler, counters: TracingCounters) {
        self.forward = forward
        self.counters = counters
    }

    public var logLevel: Logger.Level {
        get { .debug }
        set { forwardLevel = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    static func int(_ value: Logger.Metadata.Value?) -> Int64? {
        guard case .string(let s)? = value else {
            if case .stringConvertible(let c)? = value { return Int64(c.description) }
            return nil
        }
        return Int64(s)
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let message = event.message.description
        switch message {
        case "Exported batch.":
            counters.exported(Self.int(merged["batch_size"]) ?? 0)
        case "Failed to export batch.":
            counters.exportFailed(spans: Self.int(merged["batch_size"]) ?? 0)
        case _ where message.hasPrefix("Spans were dropped"):
            counters.dropped(Self.int(merged["dropped_count"]) ?? 0)
        default:
            break
        }
        guard event.level >= forwardLevel, event.level >= forward.logLevel else { return }
        merged["carrier"] = nil
        if let error = event.error { merged["error"] = .string("\(error)") }
        merged["event"] = "tracing_diagnostic"
        var e = event
        e.metadata = merged
        forward.log(event: e)
    }
}

/// The tracing pipeline's counters, at zero from the first scrape whether tracing is on or off, so the rules
/// and dashboards that name them always find them; `abm_tracing_enabled` says which.
public final class TracingCounters: Sendable {
    let exportedSpans: Counter
    let droppedQueueFull: Counter
    let droppedExportFailed: Counter
    let failedExports: Counter
    let enabledGauge: Gauge

    public init(factory: any MetricsFactory, enabled: Bool) {
        exportedSpans = Counter(label: MetricCatalogue.tracingSpansExported, factory: factory)
        droppedQueueFull = Counter(label: MetricCatalogue.tracingSpansDropped, dimensions: [("reason", "queue_full")], factory: factory)
        droppedExportFailed = Counter(
            label: MetricCatalogue.tracingSpansDropped, dimensions: [("reason", "export_failed")], factory: factory)
        failedExports = Counter(label: MetricCatalogue.tracingExportFailures, factory: factory)
        enabledGauge = Gauge(label: MetricCatalogue.tracingEnabled, factory: factory)
        for c in [exportedSpans, droppedQueueFull, droppedExportFailed, failedExports] { c.increment(by: 0) }
        enabledGauge.record(enabled ? 1 : 0)
    }

    func exported(_ n: Int64) { exportedSpans.increment(by: n) }
    func dropped(_ n: Int64) { droppedQueueFull.increment(by: n) }
    func exportFailed(spans: Int64) {
        failedExports.increment()
        droppedExportFailed.increment(by: spans)
    }
}
