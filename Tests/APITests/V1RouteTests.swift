import Foundation
import HTTPTypes
import HummingbirdTesting
import Simulation
import Testing

@testable import API

/// The original's `test_api_integration.py` (spec 11.9) over the router.
@Suite struct V1RouteTests {
    @Test func tiersAndShapes() async throws {
        try await withApp { client in
            // 11.9.1, 11.9.2.
            let health = try await client.call(.get, "/api/v1/health")
            #expect(health.json["status"] == "healthy")
            #expect(health.json["uptime_seconds"]?.numberValue != nil)
            #expect(try await client.call(.options, "/api/v1/simulate").json == ["detail": "OK"])
            // 11.9.3 tier 1.
            let t1 = try await client.call(.post, "/api/v1/simulate", json: v1Body())
            #expect(t1.status == .ok)
            let data = try #require(t1.json["data"])
            let rows = try #require(data["bucket_results"]?.arrayValue)
            #expect(!rows.isEmpty)
            for key in ["month_index", "date", "bucket", "unlocked_this_month"] { #expect(rows[0][key] != nil) }
            #expect(data["global_metrics"]?.arrayValue?.count == 13)
            for key in ["total_unlocked", "total_expected_sell", "expected_circulating_pct"] {
                #expect(data["global_metrics"]?.arrayValue?[0][key] != nil)
            }
            for key in ["max_unlock_tokens", "max_sell_tokens", "circ_12_pct"] { #expect(data["summary_cards"]?[key] != nil) }
            let ms = t1.json["execution_time_ms"]?.numberValue ?? -1
            #expect(ms >= 0 && ms < 10_000)
            // 11.9.4 tier 2 with everything.
            let t2 = try await client.call(.post, "/api/v1/simulate", json: v1Body(
                tier: "tier2", horizon: 24,
                buckets: #"[{"bucket": "Team", "allocation": 30, "tge_unlock_pct": 0, "cliff_months": 1, "vesting_months": 3}, {"bucket": "Treasury", "allocation": 40, "tge_unlock_pct": 10, "cliff_months": 0, "vesting_months": 4}, {"bucket": "Liquidity", "allocation": 30, "tge_unlock_pct": 100, "cliff_months": 0, "vesting_months": 0}]"#,
                extra: #", "tier2": {"staking": {"enabled": true}, "pricing": {"enabled": true, "pricing_model": "bonding_curve", "bonding_curve_param": 0.5}, "treasury": {"enabled": true, "hold_pct": 0.3, "liquidity_pct": 0.5, "buyback_pct": 0.2}, "volume": {"enabled": true}}"#))
            #expect(t2.status == .ok)
            let row0 = try #require(t2.json["data"]?["global_metrics"]?.arrayValue?[0])
            for key in ["current_price", "staked_amount", "liquidity_deployed", "treasury_balance"] { #expect(row0[key] != nil) }
            #expect(t2.json["data"]?["global_metrics"]?.arrayValue?.compactMap { $0["current_price"]?.numberValue }.allSatisfy { $0 > 0 } == true)
            // 11.9.5 tier 3 Monte Carlo.
            let t3 = try await client.call(.post, "/api/v1/simulate", json: v1Body(tier: "tier3", extra: #", "tier3": {"monte_carlo": {"enabled": true, "num_trials": 10}}"#))
            #expect(t3.json["data"]?["global_metrics"]?.arrayValue?.count == 13)
            // 11.9.13 to 11.9.16.
            let zero = try await client.call(.post, "/api/v1/simulate", json: v1Body(supply: "0", buckets: #"[{"bucket": "A", "allocation": 100, "tge_unlock_pct": 100, "cliff_months": 0, "vesting_months": 0}]"#))
            #expect(zero.json["data"]?["global_metrics"]?.arrayValue?.allSatisfy { $0["total_unlocked"] == 0.0 } == true)
            #expect(try await client.call(.post, "/api/v1/simulate", json: v1Body(horizon: 0)).json["data"]?["global_metrics"]?.arrayValue?.count == 1)
            let tokens = try await client.call(.post, "/api/v1/simulate", json: v1Body(supply: "1000000000000", mode: "tokens", buckets: #"[{"bucket": "A", "allocation": 1000000000000, "tge_unlock_pct": 10, "cliff_months": 0, "vesting_months": 12}]"#))
            #expect((tokens.json["data"]?["summary_cards"]?["max_unlock_tokens"]?.numberValue ?? 0) > 0)
            #expect(try await client.call(.post, "/api/v1/simulate", json: v1Body(horizon: 120)).json["data"]?["global_metrics"]?.arrayValue?.count == 121)
        }
    }

    @Test func totalsAddUp() async throws {
        // 11.9.18, 11.9.19.
        try await withApp { client in
            let buckets = #"[{"bucket": "A", "allocation": 30, "tge_unlock_pct": 10, "cliff_months": 2, "vesting_months": 12}, {"bucket": "B", "allocation": 30, "tge_unlock_pct": 0, "cliff_months": 6, "vesting_months": 24}, {"bucket": "C", "allocation": 40, "tge_unlock_pct": 25, "cliff_months": 0, "vesting_months": 18}]"#
            let r = try await client.call(.post, "/api/v1/simulate", json: v1Body(horizon: 36, buckets: buckets)).json
            let rows = try #require(r["data"]?["bucket_results"]?.arrayValue)
            for g in r["data"]?["global_metrics"]?.arrayValue ?? [] {
                let m = g["month_index"]
                let sum = rows.filter { $0["month_index"] == m }.reduce(0.0) { $0 + ($1["unlocked_this_month"]?.numberValue ?? 0) }
                #expect(abs(sum - (g["total_unlocked"]?.numberValue ?? 0)) < 0.01)
            }
            let final = rows.filter { $0["month_index"] == 36 }.reduce(0.0) { $0 + ($1["unlocked_cumulative"]?.numberValue ?? 0) }
            #expect(abs(final - 1_000_000) < 100)
        }
    }

    @Test func validationAndErrors() async throws {
        try await withApp { client in
            // 11.9.6, 11.9.7.
            let ok = try await client.call(.post, "/api/v1/config/validate", json: #"{"config": {"token": {"total_supply": 1000, "horizon_months": 12, "start_date": "2026-01-01"}, "buckets": [{"bucket": "A", "allocation": 100, "tge_unlock_pct": 0, "cliff_months": 0, "vesting_months": 6}]}}"#)
            #expect(ok.json["valid"] == true && ok.json["warnings"] != nil && ok.json["errors"] != nil)
            let over = try await client.call(.post, "/api/v1/config/validate", json: #"{"config": {"token": {"total_supply": 1000}, "buckets": [{"bucket": "A", "allocation": 60}, {"bucket": "B", "allocation": 60}]}}"#)
            #expect(over.json["valid"] == false)
            #expect(over.json["errors"]?.arrayValue?.contains { ($0.stringValue ?? "").contains("100%") } == true)
            #expect(try await client.call(.post, "/api/v1/config/validate", json: #"{"config": 3}"#).status == .unprocessableContent)
            // 11.9.8 to 11.9.12, 11.9.17, 11.10.20.
            let cases: [String] = [
                #"{"config": {"token": {"name": "x"}, "buckets": []}}"#,
                v1Body().replacingOccurrences(of: "2026-01-01", with: "01/01/2026"),
                v1Body(supply: "-1", buckets: #"[{"bucket": "A", "allocation": 10, "tge_unlock_pct": -5, "cliff_months": -1, "vesting_months": 0}]"#),
                "{not json", "{}", #"{"config": {}}"#, v1Body(buckets: "[]"),
                v1Body().replacingOccurrences(of: "2026-01-01", with: "2020-02-30"),
            ]
            for body in cases {
                let r = try await client.call(.post, "/api/v1/simulate", json: body)
                #expect(r.status == .unprocessableContent, "\(body): \(r.status)")
                #expect(r.json["detail"] != nil)
            }
            let empty = try await client.call(.post, "/api/v1/simulate", json: v1Body(buckets: "[]"))
            #expect(empty.body.contains("buckets"))
            // The simulator's own checks: 422 with validation_error.
            let csv = try await client.call(.post, "/api/v1/simulate", json: v1Body(extra: #", "behaviors": {"price_trigger": {"enabled": true, "source": "csv"}}"#))
            #expect(csv.status == .unprocessableContent)
            #expect(csv.json["detail"]?["error_type"] == "validation_error")
        }
    }

    @Test func concurrentIdenticalRequestsAgree() async throws {
        // 11.9.20.
        try await withApp { client in
            let counts = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<5 {
                    group.addTask { try await client.call(.post, "/api/v1/simulate", json: v1Body()).json["data"]?["bucket_results"]?.arrayValue?.count ?? -1 }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(counts.count == 5 && Set(counts) == [26])
        }
    }
}
