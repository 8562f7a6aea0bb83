import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jobs
import Simulation
import Testing

@testable import API

/// The job routes over the store: pagination, quotas, the disk floor, readiness with a full queue, and
/// results streamed from the store.
@Suite struct JobStoreRouteTests {
    @Test func listingPagesWithAnOpaqueCursor() async throws {
        try await withApp({ $0.maxQueuedJobs = 100 }) { client in
            var submitted: [String] = []
            for i in 0..<5 {
                let r = try await client.call(.post, "/api/v2/abm/simulate", json: abmBody(abm: #""agents_per_cohort": 5, "seed": \#(i + 1)"#))
                submitted.append(try #require(r.json["job_id"]?.stringValue))
            }
            // The original's shape, plus next_cursor; the default page holds all five.
            let all = try await client.call(.get, "/api/v2/abm/jobs").json
            #expect(all["jobs"]?.arrayValue?.compactMap { $0["job_id"]?.stringValue } == submitted)
            #expect(all["next_cursor"] == .null)
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let uri = "/api/v2/abm/jobs?limit=2" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await client.call(.get, uri)
                #expect(page.status == .ok)
                let jobs = try #require(page.json["jobs"]?.arrayValue)
                #expect(jobs.count <= 2)
                seen += jobs.compactMap { $0["job_id"]?.stringValue }
                cursor = page.json["next_cursor"]?.stringValue
                pages += 1
            } while cursor != nil && pages < 10
            #expect(pages == 3 && seen == submitted)
            for bad in ["limit=0", "limit=1001", "limit=x", "cursor=bogus", "cursor=c1.-5"] {
                let r = try await client.call(.get, "/api/v2/abm/jobs?\(bad)")
                #expect(r.status == .unprocessableContent, "\(bad)")
                #expect(r.json["detail"]?.arrayValue?.first?["loc"]?.arrayValue?.first == "query", "\(bad)")
            }
        }
    }

    @Test func aClientOverItsQuotaGets429WithRetryAfter() async throws {
        try await withApp({ $0.maxQueuedJobs = 10; $0.maxQueuedJobsPerClient = 2; $0.maxConcurrentJobs = 1 }, hold: HeldJobs()) { client in
            var statuses: [HTTPResponse.Status] = []
            var last: Reply?
            for i in 0..<4 {
                let r = try await client.call(.post, "/api/v2/abm/simulate", json: abmBody(abm: #""agents_per_cohort": 5, "seed": \#(i + 10)"#))
                statuses.append(r.status)
                last = r
            }
            // One runs (held), two wait, the fourth is over this client's quota.
            #expect(statuses.filter { $0 == .ok }.count == 3)
            #expect(last?.status == .tooManyRequests)
            #expect(last?.headers[.retryAfter] == "5")
            #expect(last?.detail.contains("Too many queued jobs from this client (2 of 2 allowed)") == true)
        }
    }

    @Test func submissionsAre503WhileTheDiskIsBelowItsFloor() async throws {
        let dir = NSTemporaryDirectory() + "abm-disk-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await withApp(
            { $0.jobStore = .sqlite; $0.dataDirectory = dir; $0.diskMinFreeBytes = UInt64.max / 4 }, store: SQLiteJobStore(directory: dir)
        ) { client in
            let r = try await client.call(.post, "/api/v2/abm/simulate", json: abmBody())
            #expect(r.status == .serviceUnavailable)
            #expect(r.headers[.retryAfter] == "30")
            #expect(r.detail.contains("low on disk space"))
            #expect(!r.body.contains(dir))
            let stats = try await client.call(.get, "/api/v2/abm/queue/stats").json
            #expect(stats["total_jobs"] == 0)
        }
    }

    /// A full queue is a warning in /health; readiness stays 200 so the instance keeps its traffic.
    @Test func aFullQueueWarnsButStaysReady() async throws {
        try await withApp({ $0.maxQueuedJobs = 1; $0.maxConcurrentJobs = 1; $0.maxQueuedJobsPerClient = 0 }, hold: HeldJobs()) { client in
            let first = try #require(
                try await client.call(.post, "/api/v2/abm/simulate", json: abmBody(abm: #""agents_per_cohort": 5, "seed": 1"#)).json["job_id"]?.stringValue)
            while try await client.call(.get, "/api/v2/abm/jobs/\(first)/status").json["status"] != "running" {
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(try await client.call(.post, "/api/v2/abm/simulate", json: abmBody(abm: #""agents_per_cohort": 5, "seed": 2"#)).status == .ok)
            #expect(try await client.call(.post, "/api/v2/abm/simulate", json: abmBody(abm: #""seed": 99"#)).status == .tooManyRequests)
            #expect(try await client.call(.get, "/health/ready").status == .ok)
            #expect(try await client.call(.get, "/api/v1/health/ready").status == .ok)
            let health = try await client.call(.get, "/health?verbose").json
            let check = health["checks"]?["job-queue:saturation"]?.arrayValue?.first
            #expect(check?["status"] == "warn")
        }
    }

    /// A result larger than a chunk is streamed from the store with its Content-Length.
    @Test func resultsAreStreamedFromTheStore() async throws {
        let dir = NSTemporaryDirectory() + "abm-results-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await withApp({ $0.jobStore = .sqlite; $0.dataDirectory = dir; $0.diskMinFreeBytes = 0 }, store: SQLiteJobStore(directory: dir)) { client in
            let body = abmBody(horizon: 120, abm: #""agents_per_cohort": 50, "seed": 4, "aggregation_level": "full""#)
            let id = try #require(try await client.call(.post, "/api/v2/abm/simulate", json: body).json["job_id"]?.stringValue)
            #expect(try await client.waitForJob(id)["status"] == "completed")
            let r = try await client.call(.get, "/api/v2/abm/jobs/\(id)/results")
            #expect(r.status == .ok)
            #expect(r.body.utf8.count > ResultChunking.chunkBytes)
            #expect(r.headers[.contentLength] == String(r.body.utf8.count))
            #expect(r.json["num_agents"] != nil)
            let sync = try await client.call(.post, "/api/v2/abm/simulate-sync", json: body).json
            #expect(sync["global_metrics"] == r.json["global_metrics"])
        }
    }
}
