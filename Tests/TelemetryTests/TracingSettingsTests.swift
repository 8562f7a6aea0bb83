import Logging
import Metrics
import Prometheus
import Testing

@testable import Telemetry

/// When tracing is on, and what is refused at start.
@Suite struct TracingSettingsTests {
    func parse(_ env: [String: String]) -> Result<TracingSettings, TracingSettings.Problem> { TracingSettings.parse(environment: env) }

    @Test func offUnlessAnEndpointIsSetOrTheSDKIsEnabled() throws {
        #expect(try parse([:]).get().enabled == false)
        #expect(try parse(["OTEL_TRACES_SAMPLER": "always_on"]).get().enabled == false)
        let shared = try parse(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"]).get()
        #expect(shared.enabled && shared.endpoint == "http://collector:4318/v1/traces")
        let slash = try parse(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/"]).get()
        #expect(slash.endpoint == "http://collector:4318/v1/traces")
        let traces = try parse(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:1", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://b/x"]).get()
        #expect(traces.enabled && traces.endpoint == "https://b/x")
        let sdk = try parse(["OTEL_SDK_DISABLED": "false"]).get()
        #expect(sdk.enabled && sdk.endpoint == "http://localhost:4318/v1/traces")
        #expect(try parse(["OTEL_SDK_DISABLED": "TRUE", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:1"]).get().enabled == false)
        #expect(try parse(["OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:1"]).get().enabled == false)
    }

    @Test func protocolsThatAreNotBuiltAreRefusedWithTheReason() {
        let on = ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:1"]
        for (key, value, words) in [
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", "grpc is not built"), ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", "base64"),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "GRPC", "grpc is not built"), ("OTEL_EXPORTER_OTLP_PROTOCOL", "thrift", "not an OTLP protocol"),
        ] {
            guard case .failure(let p) = parse(on.merging([key: value]) { $1 }) else {
                Issue.record("\(key)=\(value) was accepted")
                continue
            }
            #expect(p.variable == key && p.message.contains(words), "\(p)")
        }
        // The signal-specific variable wins over the shared one.
        #expect((try? parse(on.merging(["OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf"]) { $1 }).get()) != nil)
        // With tracing off, a protocol is not checked (nothing would use it).
        #expect((try? parse(["OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"]).get())?.enabled == false)
    }

    @Test func otherInvalidValuesAreRefused() {
        let on = ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:1"]
        for (env, variable) in [
            (["OTEL_SDK_DISABLED": "maybe"], "OTEL_SDK_DISABLED"), (on.merging(["OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"]) { $1 }, "OTEL_EXPORTER_OTLP_ENDPOINT"),
            (on.merging(["OTEL_TRACES_EXPORTER": "zipkin"]) { $1 }, "OTEL_TRACES_EXPORTER"),
            (on.merging(["OTEL_TRACES_SAMPLER": "parentbased_jaeger_remote"]) { $1 }, "OTEL_TRACES_SAMPLER"),
            (on.merging(["OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "1.5"]) { $1 }, "OTEL_TRACES_SAMPLER_ARG"),
            (on.merging(["OTEL_PROPAGATORS": "b3"]) { $1 }, "OTEL_PROPAGATORS"),
        ] {
            guard case .failure(let p) = parse(env) else {
                Issue.record("\(env) was accepted")
                continue
            }
            #expect(p.variable == variable)
        }
        #expect((try? parse(on.merging(["OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25"]) { $1 }).get())?.enabled == true)
    }

    @Test func aMalformedTraceparentIsDroppedAndAMalformedTracestateAlone() {
        let good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        #expect(TraceHeaders.sanitize(traceparent: good, tracestate: "a=b").traceparent == good)
        #expect(TraceHeaders.sanitize(traceparent: good, tracestate: "a=b").tracestate == "a=b")
        #expect(TraceHeaders.sanitize(traceparent: good, tracestate: "Bad!=x").traceparent == good)
        #expect(TraceHeaders.sanitize(traceparent: good, tracestate: "Bad!=x").tracestate == nil)
        for bad in [
            "", "00-XYZ-notatrace-01", "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", good + "-extra", good + ", " + good, String(repeating: "a", count: 10_000),
        ] {
            let s = TraceHeaders.sanitize(traceparent: bad, tracestate: "a=b")
            #expect(s.traceparent == nil && s.tracestate == nil, "\(bad.prefix(80)) was kept")
        }
    }
}

/// swift-otel's diagnostics become counters, and only warnings and errors reach the service log, without the
/// carrier (the request's header set) that a failed extraction would attach.
@Suite struct TracingDiagnosticsTests {
    func value(_ registry: PrometheusCollectorRegistry, _ line: String) -> Double? {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        let text = String(decoding: buffer, as: UTF8.self)
        return text.split(separator: "\n").first { $0.hasPrefix(line + " ") }.flatMap { Double($0.split(separator: " ").last!) }
    }

    @Test func exportsDropsAndFailuresAreCountedWhateverTheLevel() {
        let registry = PrometheusCollectorRegistry()
        let factory = TelemetryBundle.prometheusFactory(registry: registry)
        let counters = TracingCounters(factory: factory, enabled: true)
        let capture = CapturedLogs()
        var logger = Logger(label: "abm.tracing") { _ in TracingDiagnosticsHandler(forward: capture, counters: counters) }
        logger.logLevel = .error  // OTEL_LOG_LEVEL=error: counting goes on
        #expect(value(registry, "abm_tracing_enabled") == 1)
        #expect(value(registry, "abm_tracing_export_failures_total") == 0)
        var batch = logger
        batch[metadataKey: "batch_size"] = "12"
        batch.debug("Exported batch.")
        batch.debug("Exported batch.")
        batch.warning("Failed to export batch.", metadata: ["error": "connection refused"])
        logger.warning("Spans were dropped this iteration because queue was full", metadata: ["dropped_count": "7", "queue_size": "2048"])
        #expect(value(registry, "abm_tracing_spans_exported_total") == 24)
        #expect(value(registry, "abm_tracing_export_failures_total") == 1)
        #expect(value(registry, #"abm_tracing_spans_dropped_total{reason="export_failed"}"#) == 12)
        #expect(value(registry, #"abm_tracing_spans_dropped_total{reason="queue_full"}"#) == 7)
        #expect(capture.lines.isEmpty, "below OTEL_LOG_LEVEL=error nothing is passed on")
        logger.logLevel = .warning
        logger.warning("Failed to extract span context.", metadata: ["carrier": "authorization: Bearer secret"])
        logger.info("Configuration updated from environment")
        #expect(capture.lines.count == 1)
        #expect(capture.lines.first?.2["carrier"] == nil && capture.lines.first?.2["event"] == "tracing_diagnostic")
    }

    @Test func offTheCountersExistAtZero() {
        let registry = PrometheusCollectorRegistry()
        let runtime = TracingRuntime(disabled: TelemetryBundle.prometheusFactory(registry: registry))
        #expect(runtime.service == nil && runtime.loggingMetadataProvider == nil && !runtime.settings.enabled)
        #expect(value(registry, "abm_tracing_enabled") == 0)
        #expect(value(registry, "abm_tracing_spans_exported_total") == 0)
    }
}
