import Foundation
import HTTPTypes
import InMemoryTracing
import Jobs
import Prometheus
import Telemetry
import Testing
import Tracing

@testable import API

/// The server span of each request, with an in-memory tracer: named by method and route template, HTTP
/// attributes, a 5xx marked as an error and a 4xx not, ended once the body is written; the job it submits is a
/// producer span inside it; every 5xx is one error event.
@Suite struct ServerSpanTests {
    func telemetry(_ tracer: InMemoryTracer, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) -> TelemetryBundle {
        TelemetryBundle(version: "test", registry: registry, tracing: { m in TracingRuntime(tracer: tracer, metrics: m) })
    }

    func span(_ tracer: InMemoryTracer, _ name: String) async -> FinishedInMemorySpan? {
        for _ in 0..<200 {
            if let s = tracer.finishedSpans.first(where: { $0.operationName == name }) { return s }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    @Test func aSpanPerRequestNamedByRouteWithHTTPAttributes() async throws {
        let tracer = InMemoryTracer()
        try await withApp(telemetry: telemetry(tracer)) { client in
            let stats = try await client.call(.get, "/api/v2/abm/queue/stats", headers: [.userAgent: "probe/1"])
            #expect(stats.status == .ok)
            let s = try #require(await span(tracer, "GET /api/v2/abm/queue/stats"))
            #expect(s.kind == .server && s.status == nil)
            #expect(s.attributes["http.route"]?.toSpanAttribute() == .string("/api/v2/abm/queue/stats"))
            #expect(s.attributes["http.response.status_code"]?.toSpanAttribute() == .int64(200))
            #expect(s.attributes["http.request.method"]?.toSpanAttribute() == .string("GET"))
            #expect(s.attributes["user_agent.original"]?.toSpanAttribute() == .string("probe/1"))
            // A job route's span is named by its template, never by the raw path.
            _ = try await client.call(.get, "/api/v2/abm/jobs/abm_000000000000/status")
            #expect(await span(tracer, "GET /api/v2/abm/jobs/{job_id}/status") != nil)
            // Probes and scrapes have no span.
            for probe in ["/health/live", "/api/v1/health/ready", "/health", "/metrics"] { _ = try await client.call(.get, probe) }
            // No route: the method alone; a 404 is not an error of the server.
            let missing = try await client.call(.get, "/no/such/path")
            #expect(missing.status == .notFound)
            let m = try #require(await span(tracer, "GET"), "\(tracer.finishedSpans.map(\.operationName))")
            #expect(m.status == nil && m.attributes["http.response.status_code"]?.toSpanAttribute() == .int64(404))
            #expect(!tracer.finishedSpans.contains { $0.operationName.contains("health") || $0.operationName.contains("metrics") })
        }
    }

    @Test func aSubmissionsProducerSpanIsAChildOfTheRequestsSpan() async throws {
        let tracer = InMemoryTracer()
        try await withApp(telemetry: telemetry(tracer)) { client in
            let r = try await client.call(.post, "/api/v2/abm/simulate", json: abmBody())
            #expect(r.status == .ok)
            let server = try #require(await span(tracer, "POST /api/v2/abm/simulate"))
            let producer = try #require(await span(tracer, "job submit"))
            #expect(producer.kind == .producer)
            #expect(producer.spanContext.parentSpanID == server.spanContext.spanID)
            #expect(producer.spanContext.traceID == server.spanContext.traceID)
            let id = try #require(r.json["job_id"]?.stringValue)
            _ = try await client.waitForJob(id)
            let run = try #require(await span(tracer, "job run"))
            #expect(run.links.first?.context.inMemorySpanContext?.spanID == producer.spanContext.spanID)
            // The in-memory tracer does not speak W3C: no trace id in the status body.
            let status = try await client.call(.get, "/api/v2/abm/jobs/\(id)/status").json
            #expect(status["trace_id"] == .null)
        }
    }

    @Test func a5xxIsAnErrorSpanAndOneErrorEvent() async throws {
        let tracer = InMemoryTracer()
        let registry = PrometheusCollectorRegistry()
        let dir = NSTemporaryDirectory() + "abm-span-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await withApp(
            { $0.jobStore = .sqlite; $0.dataDirectory = dir; $0.diskMinFreeBytes = UInt64.max / 4 }, store: SQLiteJobStore(directory: dir),
            telemetry: telemetry(tracer, registry: registry)
        ) { client in
            let r = try await client.call(.post, "/api/v2/abm/simulate", json: abmBody())
            #expect(r.status == .serviceUnavailable)
            #expect(r.headers[HTTPField.Name("X-ABM-Error-Type")!] == nil && r.headers[HTTPField.Name("X-ABM-Error-Message")!] == nil)
            let s = try #require(await span(tracer, "POST /api/v2/abm/simulate"))
            #expect(s.status?.code == .error)
            #expect(s.attributes["error.type"]?.toSpanAttribute() == .string("503"))
        }
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        let lines = String(decoding: buffer, as: UTF8.self).split(separator: "\n")
        let counted = lines.filter { $0.hasPrefix(#"abm_errors_total{source="http",type="HTTP503","#) }
        #expect(counted.count == 1 && counted.first?.hasSuffix(" 1") == true, "\(counted)")
    }
}
