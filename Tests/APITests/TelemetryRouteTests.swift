import Foundation
import HTTPTypes
import HummingbirdTesting
import Simulation
import Telemetry
import Testing

@testable import API

@Suite struct TelemetryRouteTests {
    @Test func metricsCoverRequestsJobsAndTheProcess() async throws {
        try await withApp { client in
            _ = try await client.call(.get, "/")
            _ = try await client.call(.get, "/nope")
            _ = try await client.call(.post, "/api/v2/abm/simulate-sync", json: abmBody())
            let id = try #require(try await client.call(.post, "/api/v2/abm/simulate", json: abmBody(abm: #""seed": 5"#)).json["job_id"]?.stringValue)
            _ = try await client.waitForJob(id)
            _ = try await client.call(.post, "/api/v2/abm/simulate", json: abmBody(abm: #""seed": 5"#))
            let r = try await client.call(.get, "/metrics")
            #expect(r.status == .ok)
            #expect(r.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = r.body
            for expected in [
                #"abm_http_requests_total{method="GET",route="/",status="200"} 1"#,
                #"abm_http_requests_total{method="GET",route="unmatched",status="404"} 1"#,
                #"abm_http_request_duration_seconds_bucket{method="POST",route="/api/v2/abm/simulate-sync",le="0.25"}"#,
                #"abm_jobs{state="completed"} 2"#, #"abm_jobs_submitted_total{kind="abm"} 1"#, #"abm_jobs_submitted_total{kind="cached"} 1"#,
                #"abm_job_cache_requests_total{result="hit"} 1"#, #"abm_jobs_finished_total{kind="abm",status="completed"} 1"#,
                // One synchronous run and one job.
                "abm_simulations_total{engine=\"abm\"} 2", "process_resident_memory_bytes ", "abm_build_info{version=\"test\"",
                "abm_event_loop_lag_seconds ", "abm_job_queue_capacity 100",
            ] {
                #expect(text.contains(expected), "missing \(expected)")
            }
            // Route labels are templates, never raw ids.
            _ = try await client.call(.get, "/api/v2/abm/jobs/\(id)/status")
            let after = try await client.call(.get, "/metrics").body
            #expect(after.contains(#"route="/api/v2/abm/jobs/{job_id}/status""#))
            #expect(!after.contains(id))
            // Every family has HELP and TYPE, and every family is in the catalogue with its type.
            for line in after.split(separator: "\n") where line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                let entry = MetricCatalogue.entry(String(parts[2]))
                #expect(entry != nil, "uncatalogued \(parts[2])")
                #expect(entry?.kind.rawValue == String(parts[3]), "\(parts[2]) is \(parts[3])")
                #expect(after.contains("# HELP \(parts[2]) "))
            }
        }
    }

    @Test func promtoolFindsNothingToSay() async throws {
        guard let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            Issue.record("promtool is not installed (scripts/bootstrap installs Debian's prometheus package)")
            return
        }
        let text = try await withApp { client in
            _ = try await client.call(.post, "/api/v2/abm/simulate-sync", json: abmBody())
            _ = try await client.call(.post, "/api/v2/abm/simulate", json: abmBody())
            _ = try await client.call(.get, "/missing")
            return try await client.call(.get, "/metrics").body
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: promtool)
        p.arguments = ["check", "metrics"]
        let input = Pipe()
        let output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = output
        try p.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let said = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let findings = said.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(findings.isEmpty, "promtool: \(findings)")
    }

    @Test func metricsCanBeTurnedOff() async throws {
        try await withApp({ $0.prometheusEnabled = false }) { client in
            let r = try await client.call(.get, "/metrics")
            #expect(r.status == .notFound)
        }
    }

    @Test func healthEndpoints() async throws {
        let telemetry = TelemetryBundle(version: "9.9.9")
        try await withApp(telemetry: telemetry) { client in
            let full = try await client.call(.get, "/health")
            #expect(full.status == .ok)
            #expect(full.headers[.contentType] == "application/health+json")
            #expect(full.headers[.cacheControl] == "no-store")
            let status = full.json["status"]?.stringValue ?? ""
            #expect(status == "pass" || status == "warn")
            #expect(full.json["releaseId"] == "9.9.9")
            let checks = try #require(full.json["checks"]?.objectValue?.keys)
            for name in ["event-loop:lag", "startup:complete", "job-store:writable", "service:draining", "job-queue:saturation", "disk:free", "memory:utilization"] {
                #expect(checks.contains(name), "missing \(name)")
            }
            let verbose = try await client.call(.get, "/health?verbose")
            #expect(verbose.json["checks"]?["disk:free"]?.arrayValue?.first?["observedUnit"] == "bytes")
            #expect(try await client.call(.get, "/health/live").status == .ok)
            #expect(try await client.call(.get, "/health/startup").status == .ok)
            #expect(try await client.call(.get, "/health/ready").status == .ok)
            // Draining: readiness turns false at once, liveness stays up; the v1 probe agrees.
            telemetry.drain.begin()
            let ready = try await client.call(.get, "/health/ready?verbose")
            #expect(ready.status == .serviceUnavailable)
            #expect(ready.json["checks"]?["service:draining"]?.arrayValue?.first?["status"] == "fail")
            #expect(try await client.call(.get, "/health/live").status == .ok)
            let v1 = try await client.call(.get, "/api/v1/health/ready")
            #expect(v1.status == .serviceUnavailable)
            #expect(v1.json["status"] == "not_ready")
            #expect(try await client.call(.get, "/api/v1/health/live").json == ["status": "alive"])
        }
    }

    @Test func aFailingCheckFailsTheReport() async throws {
        let telemetry = TelemetryBundle(version: "t")
        telemetry.health.register(ClosureHealthCheck("test:broken", probes: [.ready]) { HealthCheckResult(.fail, output: "broken on purpose") })
        try await withApp(telemetry: telemetry) { client in
            let r = try await client.call(.get, "/health")
            #expect(r.status == .serviceUnavailable)
            #expect(r.json["status"] == "fail")
            #expect(try await client.call(.get, "/health/live").status == .ok)
        }
    }
}
