import CoreMetrics
import Logging
import OTel
import ServiceLifecycle
import Tracing

/// The tracing backend of one process: swift-otel's tracer with an OTLP/HTTP (protobuf) exporter and a batch
/// span processor when tracing is on, a no-op tracer when it is off. Built once by the executable; the tracer
/// is handed to the parts that start spans, and `service` runs in the process's service group so the last
/// spans are exported at shutdown.
public final class TracingRuntime: Sendable {
    public let settings: TracingSettings
    public let tracer: any Tracer
    /// The exporter, processor and tracer as one service (nil when tracing is off).
    public let service: (any Service)?
    public let counters: TracingCounters

    /// Off: a no-op tracer, no service, the counters at zero.
    public init(disabled metrics: any MetricsFactory) {
        settings = TracingSettings(enabled: false, endpoint: nil, sampler: "parentbased_always_on")
        tracer = NoOpTracer()
        service = nil
        counters = TracingCounters(factory: metrics, enabled: false)
    }

    /// A tracer for tests (an in-memory tracer, say), with no exporter.
    public init(tracer: any Tracer, metrics: any MetricsFactory) {
        settings = TracingSettings(enabled: true, endpoint: nil, sampler: "parentbased_always_on")
        self.tracer = tracer
        service = nil
        counters = TracingCounters(factory: metrics, enabled: true)
    }

    /// swift-otel's tracing backend (`OTel.makeTracingBackend`: it reads every `OTEL_*` variable of the
    /// process environment itself). Its diagnostics go to `diagnostics` (the service's log handler) through
    /// the counting handler.
    public init(
        settings: TracingSettings, serviceVersion: String, instance: String?, metrics: any MetricsFactory,
        diagnostics: @escaping @Sendable (String) -> any LogHandler
    ) throws {
        precondition(settings.enabled)
        self.settings = settings
        let counters = TracingCounters(factory: metrics, enabled: true)
        self.counters = counters
        var configuration = OTel.Configuration.default
        configuration.serviceName = "abm-service"
        configuration.resourceAttributes["service.version"] = serviceVersion
        if let instance { configuration.resourceAttributes["service.instance.id"] = instance }
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.traces.enabled = true
        configuration.traces.exporter = .otlp
        // swift-otel's own messages reach the service log from warning up (OTEL_LOG_LEVEL lowers that).
        configuration.diagnosticLogLevel = .warning
        configuration.diagnosticLogger = .custom(
            Logger(label: "abm.tracing") { label in TracingDiagnosticsHandler(forward: diagnostics(label), counters: counters) })
        let backend = try OTel.makeTracingBackend(configuration: configuration)
        tracer = backend.factory
        service = backend.service
    }

    /// Puts `trace_id`, `span_id` and `trace_flags` of the current span on every log line (journald:
    /// `TRACE_ID=`, `SPAN_ID=`); nil when tracing is off, so no log line pays for it.
    public var loggingMetadataProvider: Logger.MetadataProvider? {
        service != nil ? OTel.makeLoggingMetadataProvider() : nil
    }
}
