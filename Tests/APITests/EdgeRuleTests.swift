import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Simulation
import Testing

@testable import API

/// The HTTP edge's rules: rate-limit keys by route template, trusted proxies, a bounded limiter that charges
/// all of a request's limits or none.
@Suite struct EdgeRuleTests {
    @Test func routeLimitsAreKeyedOnTheRouteTemplate() async throws {
        try await withApp(clock: TestClock()) { client in
            var statuses: [HTTPResponse.Status] = []
            // The same handler under three spellings of its path: 20 a minute in all, not 20 each.
            for path in Array(repeating: "/api/v1/simulate", count: 10) + Array(repeating: "/api/v1/simulate/", count: 10)
                + ["//api/v1/simulate", "/api//v1/simulate", "/api/v1/simulate/"]
            {
                statuses.append(try await client.call(.post, path, json: v1Body(horizon: 1)).status)
            }
            #expect(statuses.prefix(20).allSatisfy { $0 == .ok }, "\(statuses)")
            #expect(statuses.suffix(3).allSatisfy { $0 == .tooManyRequests }, "\(statuses)")
        }
    }

    @Test func forwardedClientsAreTrustedOnlyBehindATrustedProxy() async throws {
        let limit = RateLimit(count: 2, window: .minute)
        // The router test's peer is 127.0.0.1: a trusted proxy here.
        try await withApp({ $0.defaultRateLimit = limit; $0.trustedProxies = ["127.0.0.0/8"] }, clock: TestClock()) { client in
            let a: HTTPFields = [.xForwardedFor: "203.0.113.7"]
            let b: HTTPFields = [.forwarded: #"for="[2001:db8::9]:4711";proto=https"#]
            var seen: [HTTPResponse.Status] = []
            // A chain: the rightmost address that is not a trusted proxy is the client (203.0.113.7 again).
            for headers in [a, a, a, b, [.xForwardedFor: "198.51.100.1, 203.0.113.7, 127.0.0.5"]] as [HTTPFields] {
                seen.append(try await client.call(.get, "/api/v2/abm/queue/stats", headers: headers).status)
            }
            // The third from the same client is over its budget; another client behind the same proxy has its own.
            #expect(seen == [.ok, .ok, .tooManyRequests, .ok, .tooManyRequests])
        }
        // Without trusted proxies the headers are ignored: a client cannot pick its own key.
        try await withApp({ $0.defaultRateLimit = limit }, clock: TestClock()) { client in
            var last = HTTPResponse.Status.ok
            for i in 0..<3 {
                last = try await client.call(.get, "/api/v2/abm/queue/stats", headers: [.xForwardedFor: "203.0.113.\(i)"]).status
            }
            #expect(last == .tooManyRequests)
        }
    }

    @Test func trustedProxyRanges() throws {
        let t = try #require(TrustedProxies.parse("10.0.0.0/8, 192.168.1.7 ,2001:db8::/32"))
        #expect(t.trusts("10.200.3.4") && t.trusts("192.168.1.7") && t.trusts("2001:db8:ffff::1") && t.trusts("::ffff:10.1.1.1"))
        #expect(!t.trusts("11.0.0.1") && !t.trusts("192.168.1.8") && !t.trusts("2001:db9::1") && !t.trusts("not an address"))
        #expect(TrustedProxies.parse("10.0.0.0/33") == nil && TrustedProxies.parse("example.com") == nil)
        #expect(t.client(peer: "10.0.0.1", forwardedFor: "garbage", forwarded: nil) == "10.0.0.1")
        #expect(t.client(peer: "8.8.8.8", forwardedFor: "1.2.3.4", forwarded: nil) == "8.8.8.8")
        #expect(t.client(peer: "10.0.0.1", forwardedFor: "1.2.3.4:5678", forwarded: nil) == "1.2.3.4")
        let bad = ServiceConfiguration.load(environment: ["ABM_TRUSTED_PROXIES": "10.0.0.0/40"])
        guard case .failure(let e) = bad else { Issue.record("a bad range must be refused"); return }
        #expect(e.description.contains("ABM_TRUSTED_PROXIES"))
    }

    /// A request refused by one of its limits is not charged to the others.
    @Test func limitsAreChargedTogetherOrNotAtAll() {
        let limiter = RateLimiter(now: { 1000 })
        let tight = RateLimit(count: 1, window: .minute)
        let loose = RateLimit(count: 3, window: .minute)
        let first = limiter.check([("route", tight), ("client", loose)])
        #expect(first.allSatisfy { $0.allowed })
        for _ in 0..<5 {
            let refused = limiter.check([("route", tight), ("client", loose)])
            #expect(refused.allSatisfy { !$0.allowed })
        }
        // Only the first request was charged to the client's default budget.
        #expect(limiter.check(key: "client", limit: loose).remaining == 1)
    }

    @Test func theLimiterTableIsBounded() {
        let clock = ManualSeconds()
        let limiter = RateLimiter(maxKeys: 100, now: { clock.value.load(ordering: .relaxed) })
        let limit = RateLimit(count: 5, window: .minute)
        for i in 0..<10_000 { _ = limiter.check(key: "k\(i)", limit: limit) }
        #expect(limiter.trackedKeys <= 200)
        clock.value.store(2000, ordering: .relaxed)
        _ = limiter.check(key: "fresh", limit: limit)
        #expect(limiter.trackedKeys <= 101)
    }
}

import Synchronization

final class ManualSeconds: Sendable {
    let value = Atomic<Int64>(1000)
}

/// The work budget: the cost of a simulation is computed from the request and refused before it runs.
@Suite struct WorkBudgetTests {
    static func buckets(_ n: Int) -> String {
        "[" + (0..<n).map { #"{"bucket": "B\#($0)", "allocation": \#(100.0 / Double(n)), "tge_unlock_pct": 0, "cliff_months": 0, "vesting_months": 12}"# }
            .joined(separator: ",") + "]"
    }

    @Test func overTheBudgetIsA422BeforeAnyWork() async throws {
        try await withApp({ $0.maxWorkUnits = 1_000_000 }) { client in
            let small = abmBody(horizon: 120, buckets: Self.buckets(2), abm: #""agents_per_cohort": 1000, "seed": 1"#)
            #expect(try await client.call(.post, "/api/v2/abm/simulate-sync", json: small).status == .ok)
            let big = abmBody(horizon: 240, buckets: Self.buckets(10), abm: #""agents_per_cohort": 1000, "seed": 1"#)
            for path in ["/api/v2/abm/simulate-sync", "/api/v2/abm/simulate"] {
                let r = try await client.call(.post, path, json: big)
                #expect(r.status == .unprocessableContent, "\(path)")
                let msg = r.json["detail"]?.arrayValue?.first?["msg"]?.stringValue ?? ""
                #expect(msg.contains("over the work budget of 1000000 (ABM_MAX_WORK_UNITS)") && msg.contains("abm.agents_per_cohort"), "\(msg)")
            }
            // A Monte Carlo study: agent-months times trials.
            let mc = abmBody(horizon: 120, buckets: Self.buckets(2), abm: #""agents_per_cohort": 1000"#, extra: #", "monte_carlo": {"num_trials": 50}"#)
            let refused = try await client.call(.post, "/api/v2/abm/monte-carlo/simulate", json: mc)
            #expect(refused.status == .unprocessableContent)
            #expect(refused.json["detail"]?.arrayValue?.first?["msg"]?.stringValue?.contains("monte_carlo.num_trials") == true)
            #expect(try await client.call(.get, "/api/v2/abm/queue/stats").json["total_jobs"] == 0)
        }
    }

    @Test func v1RunsCountBucketMonthsTimesTrials() async throws {
        try await withApp({ $0.maxWorkUnits = 1_000_000 }) { client in
            let b = (0..<100).map { #"{"bucket": "B\#($0)", "allocation": 1, "tge_unlock_pct": 0, "cliff_months": 0, "vesting_months": 12}"# }.joined(separator: ",")
            func body(trials: Int) -> String {
                #"{"config": {"token": {"name": "T", "total_supply": 1000000, "start_date": "2026-01-01", "horizon_months": 120, "simulation_mode": "tier3"}, "buckets": [\#(b)], "tier3": {"monte_carlo": {"enabled": true, "num_trials": \#(trials)}}}}"#
            }
            // 100 buckets x 120 months x 100 trials = 1.2 million bucket-months.
            let r = try await client.call(.post, "/api/v1/simulate", json: body(trials: 100))
            #expect(r.status == .unprocessableContent)
            #expect(r.json["detail"]?.arrayValue?.first?["msg"]?.stringValue?.contains("tier3.monte_carlo.num_trials") == true)
            #expect(try await client.call(.post, "/api/v1/simulate", json: body(trials: 50)).status == .ok)
        }
    }
}

@Suite struct ResultLimitTests {
    /// A result predicted over ABM_MAX_RESULT_BYTES is refused before any work, naming the limit, the
    /// setting and what to reduce; a smaller one streams whole.
    @Test func overTheResultLimitIsA422BeforeAnyWork() async throws {
        try await withApp({ $0.maxResultBytes = 2_000_000 }) { client in
            let big = abmBody(horizon: 240, buckets: WorkBudgetTests.buckets(40))
            for path in ["/api/v2/abm/simulate-sync", "/api/v2/abm/simulate"] {
                let r = try await client.call(.post, path, json: big)
                #expect(r.status == .unprocessableContent, "\(path)")
                let issue = r.json["detail"]?.arrayValue?.first
                let msg = issue?["msg"]?.stringValue ?? ""
                #expect(msg.contains("over the result limit of 2000000 bytes (ABM_MAX_RESULT_BYTES)") && msg.contains("token.horizon_months"), "\(msg)")
                #expect(issue?["ctx"]?["max_result_bytes"] == 2_000_000)
            }
            let v1 = #"{"config": {"token": {"name": "T", "total_supply": 1000000, "start_date": "2026-01-01", "horizon_months": 240}, "buckets": \#(WorkBudgetTests.buckets(40))}}"#
            #expect(try await client.call(.post, "/api/v1/simulate", json: v1).status == .unprocessableContent)
            #expect(try await client.call(.get, "/api/v2/abm/queue/stats").json["total_jobs"] == 0)
            let small = try await client.call(.post, "/api/v2/abm/simulate-sync", json: abmBody(horizon: 24, buckets: WorkBudgetTests.buckets(4)))
            #expect(small.status == .ok)
            #expect(small.json["global_metrics"]?.arrayValue?.count == 24)
            #expect(small.headers[.contentType] == "application/json")
        }
    }
}

@Suite struct AllowedHostsTests {
    /// The test client always names `localhost`: served when listed, 400 when not.
    @Test func onlyListedHostsAreServed() async throws {
        try await withApp({ $0.allowedHosts = ["abm.example.com", "localhost"] }) { client in
            let ok = try await client.call(.get, "/health/live")
            #expect(ok.status == .ok)
        }
        try await withApp({ $0.allowedHosts = ["abm.example.com"] }) { client in
            let bad = try await client.call(.get, "/health/live", headers: [.origin: "http://localhost:5173"])
            #expect(bad.status == .badRequest && bad.detail == "Invalid host header")
            // A refusal is an error response like any other: CORS headers for an allowed origin.
            #expect(bad.headers[.accessControlAllowOrigin] == "http://localhost:5173")
        }
        #expect(AllowedHostsMiddleware.hostName("Example.COM") == "example.com")
        #expect(AllowedHostsMiddleware.hostName("10.0.0.1:80") == "10.0.0.1")
        #expect(AllowedHostsMiddleware.hostName("[fe80::1]") == "fe80::1")
    }
}

