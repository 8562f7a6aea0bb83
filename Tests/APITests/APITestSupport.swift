import Dispatch
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jobs
import Logging
import NIOCore
import Simulation
import Synchronization
import Telemetry
import Testing

@testable import API

/// Builds the real application (in-memory store unless given) and runs `body` against its router.
func withApp<T: Sendable>(
    _ configure: (inout ServiceConfiguration) -> Void = { _ in }, store: (any JobStore)? = nil,
    clock: TestClock? = nil, setup: TestingSetup = .router, hold: HeldJobs? = nil, telemetry: TelemetryBundle? = nil,
    _ body: @Sendable @escaping (any TestClientProtocol) async throws -> T
) async throws -> T {
    var c = ServiceConfiguration()
    c.jobStore = .memory
    configure(&c)
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    var rateClock: (@Sendable () -> Int64)? = nil
    if let clock { rateClock = { clock.now } }
    var hook: (@Sendable (String, Int) -> Void)? = nil
    if let hold { hook = { _, month in hold.pause(at: month) } }
    let app = await buildApplication(
        configuration: c, logger: logger, telemetry: telemetry ?? TelemetryBundle(version: "test"), jobStore: store ?? InMemoryJobStore(), rateLimitClock: rateClock,
        jobProgressHook: hook)
    return try await app.test(setup, body)
}

/// Whole seconds for the rate limiter, moved by hand.
final class TestClock: Sendable {
    private let value = Atomic<Int64>(1_000_000)
    var now: Int64 { value.load(ordering: .relaxed) }
    func advance(_ s: Int64) { value.add(s, ordering: .relaxed) }
}

struct Reply: Sendable {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: String
    var json: JSONValue { (try? JSONParser.parse(body)) ?? .null }
    /// `detail` as a string ("" when absent), for message checks.
    var detail: String { json["detail"]?.stringValue ?? "" }
}

extension TestClientProtocol {
    func call(
        _ method: HTTPRequest.Method, _ uri: String, json: String? = nil, headers: HTTPFields = [:]
    ) async throws -> Reply {
        var h = headers
        if json != nil, h[.contentType] == nil { h[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: h, body: json.map { ByteBuffer(string: $0) }) { r in
            Reply(status: r.status, headers: r.headers, body: String(buffer: r.body))
        }
    }

    /// Polls a job's status until it is terminal (bounded).
    func waitForJob(_ id: String, timeout: Duration = .seconds(30)) async throws -> JSONValue {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            let s = try await call(.get, "/api/v2/abm/jobs/\(id)/status").json
            if let status = s["status"]?.stringValue, ["completed", "failed", "cancelled"].contains(status) { return s }
            try await Task.sleep(for: .milliseconds(10))
        }
        return try await call(.get, "/api/v2/abm/jobs/\(id)/status").json
    }
}

/// A v2 request body.
func abmBody(
    supply: Double = 1_000_000, horizon: Int = 6, buckets: String? = nil, abm: String = #""agents_per_cohort": 20, "seed": 1"#,
    extra: String = ""
) -> String {
    let b = buckets ?? #"[{"bucket": "Team", "allocation": 100, "tge_unlock_pct": 10, "cliff_months": 0, "vesting_months": 6}]"#
    return #"{"token": {"name": "T", "total_supply": \#(supply), "start_date": "2026-01-01", "horizon_months": \#(horizon)}, "buckets": \#(b), "abm": {\#(abm)}\#(extra)}"#
}

/// A v1 request body.
func v1Body(
    tier: String = "tier1", horizon: Int = 12, supply: String = "1000000", mode: String = "percent",
    buckets: String = #"[{"bucket": "Team", "allocation": 50, "tge_unlock_pct": 0, "cliff_months": 3, "vesting_months": 6}, {"bucket": "Public", "allocation": 50, "tge_unlock_pct": 20, "cliff_months": 0, "vesting_months": 6}]"#,
    extra: String = ""
) -> String {
    #"{"config": {"token": {"name": "V", "total_supply": \#(supply), "start_date": "2026-01-01", "horizon_months": \#(horizon), "simulation_mode": "\#(tier)", "allocation_mode": "\#(mode)"}, "buckets": \#(buckets)\#(extra)}}"#
}

/// Holds every job at month 1 until released, so tests can act on a job known to be running.
final class HeldJobs: Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    private let released = Atomic(false)
    func pause(at month: Int) {
        guard month == 1, !released.load(ordering: .acquiring) else { return }
        // Bounded, so a failing test cannot hang the suite's shutdown.
        _ = semaphore.wait(timeout: .now() + 20)
        semaphore.signal()
    }
    func release() {
        released.store(true, ordering: .releasing)
        semaphore.signal()
    }
}
