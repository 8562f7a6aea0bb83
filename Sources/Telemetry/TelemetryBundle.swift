import CoreMetrics
import Foundation
import Logging
import Prometheus

/// The telemetry objects of one process, built by the executable (and by tests, each with its own registry)
/// and handed to the composition root.
public struct TelemetryBundle: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let metricsFactory: any MetricsFactory
    public let exporter: MetricsExporter
    public let health: HealthRegistry
    public let eventLoops: EventLoopMonitor
    public let drain: DrainState
    public let logging: LoggingRuntime?
    public let version: String
    /// The tracer and its exporter service (a no-op tracer when tracing is off).
    public let tracing: TracingRuntime
    /// Error events: one log line and one count per 5xx or failed job, by a bounded set of fingerprints.
    public let errors: ErrorEvents
    /// Set once the HTTP listener is bound and accepting.
    public let listening = OnceFlag()
    private let statusProvider = MutexBox<(@Sendable () async -> String)?>(nil)
    private let statusNotes = MutexBox<[@Sendable () -> String?]>([])

    /// The service's one-line status (systemd's STATUS=), provided at the composition root.
    public func setStatusProvider(_ f: @escaping @Sendable () async -> String) { statusProvider.mutate { $0 = f } }

    /// Adds a note to the status line (for example the firing alerts); a nil note is left out.
    public func addStatusNote(_ f: @escaping @Sendable () -> String?) { statusNotes.mutate { $0.append(f) } }

    public func statusLine() async -> String {
        var line = await statusProvider.value?() ?? "serving"
        for note in statusNotes.value { if let n = note() { line += "; " + n } }
        return drain.isDraining ? "draining; " + line : line
    }

    /// `logging` is the process's logging runtime, when the executable set one up (its statistics become
    /// metrics).
    /// `tracing` builds the tracing runtime from the metrics factory (off when nil); `errors` chooses where the
    /// error fingerprints seen are kept and how many get a label of their own.
    public init(
        version: String, logging: LoggingRuntime? = nil, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        tracing: ((any MetricsFactory) throws -> TracingRuntime)? = nil, errorFingerprintsFile: String? = nil,
        errorFingerprintLabels: Int = 20
    ) rethrows {
        self.version = version
        self.registry = registry
        self.metricsFactory = Self.prometheusFactory(registry: registry)
        self.tracing = try tracing?(metricsFactory) ?? TracingRuntime(disabled: metricsFactory)
        self.errors = ErrorEvents(
            release: version, factory: metricsFactory, logger: Logger(label: "abm.errors"), maxFingerprintLabels: errorFingerprintLabels,
            knownFile: errorFingerprintsFile)
        self.exporter = MetricsExporter(registry: registry)
        self.health = HealthRegistry(version: version)
        self.eventLoops = EventLoopMonitor()
        self.drain = DrainState()
        self.logging = logging
        exporter.register(ProcessCollector())
        exporter.register(BuildInfoCollector(version: version, swiftVersion: Self.swiftVersion))
        exporter.register(EventLoopCollector(monitor: eventLoops))
        if let logging { exporter.register(LoggingCollector(statistics: logging.statistics)) }
        health.register(EventLoopLagCheck(monitor: eventLoops))
    }

    /// A swift-prometheus factory with the catalogue's histogram buckets.
    public static func prometheusFactory(registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var f = PrometheusMetricsFactory(registry: registry)
        func durations(_ s: [Double]) -> [Duration] { s.map { .nanoseconds(Int64($0 * 1e9)) } }
        f.durationHistogramBuckets = [
            MetricCatalogue.httpDuration: durations(MetricCatalogue.httpDurationBuckets),
            MetricCatalogue.jobDuration: durations(MetricCatalogue.jobDurationBuckets),
            MetricCatalogue.simulationDuration: durations(MetricCatalogue.jobDurationBuckets),
        ]
        f.defaultDurationHistogramBuckets = durations(MetricCatalogue.httpDurationBuckets)
        f.valueHistogramBuckets = [
            MetricCatalogue.httpRequestSize: MetricCatalogue.sizeBuckets,
            MetricCatalogue.httpResponseSize: MetricCatalogue.sizeBuckets,
        ]
        f.defaultValueHistogramBuckets = MetricCatalogue.sizeBuckets
        return f
    }

    public static var swiftVersion: String {
        #if compiler(>=6.3)
            return "6.3"
        #elseif compiler(>=6.2)
            return "6.2"
        #else
            return "6"
        #endif
    }
}
