import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Simulation
import Synchronization
import Testing

@testable import API

@Suite struct ProgressStreamTests {
    struct Event {
        var id: Int
        var data: JSONValue
    }

    static func parse(_ body: String) -> [Event] {
        body.components(separatedBy: "\n\n").compactMap { frame in
            var id: Int?
            var data: JSONValue?
            for line in frame.split(separator: "\n") {
                if line.hasPrefix("id: ") { id = Int(line.dropFirst(4)) }
                if line.hasPrefix("data: ") { data = try? JSONParser.parse(String(line.dropFirst(6))) }
            }
            guard let id, let data else { return nil }
            return Event(id: id, data: data)
        }
    }

    @Test func streamEndsWithDoneAndResumesWithoutGaps() async throws {
        try await withApp { client in
            let id = try #require(try await client.call(.post, "/api/v2/abm/simulate", json: abmBody(horizon: 12, abm: #""agents_per_cohort": 200, "seed": 2"#)).json["job_id"]?.stringValue)
            let live = try await client.call(.get, "/api/v2/abm/jobs/\(id)/stream")
            #expect(live.status == .ok)
            #expect(live.headers[.contentType] == "text/event-stream")
            #expect(live.headers[.cacheControl] == "no-cache")
            let events = Self.parse(live.body)
            #expect(events.last?.data["type"] == "done")
            #expect(events.last?.data["status"] == "completed")
            #expect(events.last?.id == 15)
            let ids = events.map(\.id)
            #expect(ids == ids.sorted() && Set(ids).count == ids.count)
            #expect(events.dropLast().allSatisfy { $0.data["type"] == "progress" && $0.data["job_id"]?.stringValue == id })

            // A finished job: one progress event and one done event (spec 7.6).
            let after = Self.parse(try await client.call(.get, "/api/v2/abm/jobs/\(id)/stream").body)
            #expect(after.map { $0.data["type"] } == ["progress", "done"])
            #expect(after[0].data["progress_pct"] == 100.0)

            // Reconnecting after event 4: every later event exactly once.
            let resumed = Self.parse(try await client.call(.get, "/api/v2/abm/jobs/\(id)/stream", headers: [.lastEventID: "4"]).body)
            #expect(resumed.map(\.id) == Array(5...15))
            #expect(resumed.first?.data["current_month"] == 4)
            #expect(resumed.dropLast().last?.data["status"] == "completed")
            // Nothing left after the last id.
            #expect(try await client.call(.get, "/api/v2/abm/jobs/\(id)/stream", headers: [.lastEventID: "15"]).body.isEmpty)
            // Any id a client sends is safe: a negative one replays from the first event (a huge negative
            // id once made the server allocate a range of 10^11 ids and crash), garbage means none.
            for hostile in ["-1", "-137438953473", "\(Int.min)"] {
                let replay = Self.parse(try await client.call(.get, "/api/v2/abm/jobs/\(id)/stream", headers: [.lastEventID: hostile]).body)
                #expect(replay.map(\.id) == Array(0...15), "Last-Event-ID \(hostile)")
            }
            #expect(try await client.call(.get, "/api/v2/abm/jobs/\(id)/stream", headers: [.lastEventID: "\(Int.max)"]).body.isEmpty)
            #expect(Self.parse(try await client.call(.get, "/api/v2/abm/jobs/\(id)/stream", headers: [.lastEventID: "{}"]).body).count == 2)
        }
    }

    @Test func cancelledJobsCloseTheStream() async throws {
        let hold = HeldJobs()
        try await withApp({ $0.maxConcurrentJobs = 1 }, hold: hold) { client in
            let running = try #require(try await client.call(.post, "/api/v2/abm/simulate", json: abmBody(abm: #""seed": 41"#)).json["job_id"]?.stringValue)
            let queued = try #require(try await client.call(.post, "/api/v2/abm/simulate", json: abmBody(abm: #""seed": 42"#)).json["job_id"]?.stringValue)
            #expect(try await client.call(.delete, "/api/v2/abm/jobs/\(queued)").status == .ok)
            let events = Self.parse(try await client.call(.get, "/api/v2/abm/jobs/\(queued)/stream").body)
            #expect(events.last?.data == ["type": "done", "job_id": .string(queued), "status": "cancelled", "error": nil])
            // The held job is running at month 1: cancel it, release it, and it ends cancelled there.
            while try await client.call(.get, "/api/v2/abm/jobs/\(running)/status").json["current_month"] != 1 {
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(try await client.call(.delete, "/api/v2/abm/jobs/\(running)").status == .ok)
            hold.release()
            let final = try await client.waitForJob(running)
            #expect(final["status"] == "cancelled")
            #expect(final["current_month"] == 1)
            #expect(try await client.call(.get, "/api/v2/abm/jobs/\(running)/status").status == .ok)
        }
    }
}

/// The service over a real socket on loopback.
@Suite struct LiveHTTPTests {
    @Test func servesOverLoopback() async throws {
        try await withApp({ $0.port = 0 }, setup: .live) { client in
            let root = try await client.call(.get, "/")
            #expect(root.status == .ok)
            let sync = try await client.call(.post, "/api/v2/abm/simulate-sync", json: abmBody())
            #expect(sync.json["global_metrics"]?.arrayValue?.count == 6)
            let id = try #require(try await client.call(.post, "/api/v2/abm/simulate", json: abmBody(abm: #""seed": 3"#)).json["job_id"]?.stringValue)
            let events = ProgressStreamTests.parse(try await client.call(.get, "/api/v2/abm/jobs/\(id)/stream").body)
            #expect(events.last?.data["type"] == "done")
            #expect(try await client.call(.get, "/nope").status == .notFound)
            // Telemetry over the socket too.
            let metrics = try await client.call(.get, "/metrics")
            #expect(metrics.body.contains(#"abm_http_requests_total{method="GET",route="/",status="200"} 1"#))
            let health = try await client.call(.get, "/health")
            #expect(health.headers[.contentType] == "application/health+json")
            #expect(["pass", "warn"].contains(health.json["status"]?.stringValue ?? ""))
        }
    }
}

/// D37: simulations run off the HTTP threads, so a million-agent run does not hold up other requests.
@Suite struct NonBlockingTests {
    // A million agents over 120 months: about 2.5 s in a debug build, several times that on a loaded CI machine,
    // always well inside the test client's read timeout.
    @Test func probesAreAnsweredWhileAMillionAgentRunIsInProgress() async throws {
        let buckets = (0..<1000).map { #"{"bucket": "B\#($0)", "allocation": 0.1, "tge_unlock_pct": 5, "cliff_months": \#($0 % 13), "vesting_months": 24}"# }
        let big = #"{"token": {"name": "M", "total_supply": 1e10, "start_date": "2026-01-01", "horizon_months": 120}, "buckets": [\#(buckets.joined(separator: ","))], "abm": {"agent_granularity": "meta_agents", "agents_per_cohort": 1000, "seed": 1}}"#
        try await withApp({ $0.port = 0; $0.rateLimitEnabled = false }, setup: .live) { client in
            let order = OrderLog()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    let r = try await client.call(.post, "/api/v2/abm/simulate-sync", json: big)
                    #expect(r.json["num_agents"] == 1_000_000)
                    order.append("big")
                }
                // Give the big run time to start, then probe repeatedly while it computes.
                try await Task.sleep(for: .milliseconds(300))
                for i in 0..<10 {
                    let r = try await client.call(.get, "/api/v1/health/live")
                    #expect(r.status == .ok)
                    order.append("probe\(i)")
                }
                try await group.waitForAll()
            }
            // The first probe came back while the simulation was still computing.
            #expect(order.entries.first == "probe0")
            #expect(order.entries.count == 11)
        }
    }
}

final class OrderLog: Sendable {
    private let items = Mutex<[String]>([])
    func append(_ s: String) { items.withLock { $0.append(s) } }
    var entries: [String] { items.withLock { $0 } }
}
