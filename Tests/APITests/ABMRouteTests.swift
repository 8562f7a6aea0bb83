import Foundation
import HTTPTypes
import HummingbirdTesting
import Simulation
import Testing

@testable import API

/// The original's `test_abm_routes_comprehensive.py` (spec 11.1) over the router, with corrected
/// expectations where a defect is fixed, plus the Monte Carlo routes (11.2).
@Suite struct ABMRouteTests {
    @Test func syncRunsAndEdgeCases() async throws {
        try await withApp { client in
            // 11.1.1 minimal.
            let minimal = try await client.call(.post, "/api/v2/abm/simulate-sync", json: abmBody(
                supply: 1e7, horizon: 1,
                buckets: #"[{"bucket": "Only", "allocation": 100, "tge_unlock_pct": 100, "cliff_months": 0, "vesting_months": 0}]"#,
                abm: #""pricing_model": "constant", "agent_granularity": "meta_agents", "agents_per_cohort": 50"#))
            #expect(minimal.status == .ok)
            #expect(minimal.json["global_metrics"]?.arrayValue?.count == 1)
            #expect(minimal.json["num_agents"] == 50)
            // 11.1.2 zero TGE, zero cliff: month 0 unlocks (the audit's failing test).
            let zero = try await client.call(.post, "/api/v2/abm/simulate-sync", json: abmBody(
                buckets: #"[{"bucket": "Team", "allocation": 100, "tge_unlock_pct": 0, "cliff_months": 0, "vesting_months": 6}]"#,
                abm: #""pricing_config": {"holding_time": 3, "smoothing_factor": 0.3}, "agents_per_cohort": 20"#))
            #expect((zero.json["global_metrics"]?.arrayValue?[0]["total_unlocked"]?.numberValue ?? 0) > 0)
            // 11.1.3 100% TGE.
            let tge = try await client.call(.post, "/api/v2/abm/simulate-sync", json: abmBody(
                horizon: 12,
                buckets: #"[{"bucket": "Instant", "allocation": 100, "tge_unlock_pct": 100, "cliff_months": 0, "vesting_months": 0}]"#,
                abm: #""pricing_model": "constant""#))
            let months = try #require(tge.json["global_metrics"]?.arrayValue)
            #expect(abs((months[0]["total_unlocked"]?.numberValue ?? 0) - 1_000_000) < 10_000)
            #expect(months[1]["total_unlocked"]?.numberValue == 0)
            // 11.1.4 cliff beyond the horizon; 11.1.22 prices stay >= 0.01.
            let cliff = try await client.call(.post, "/api/v2/abm/simulate-sync", json: abmBody(
                horizon: 12,
                buckets: #"[{"bucket": "Team", "allocation": 100, "tge_unlock_pct": 0, "cliff_months": 24, "vesting_months": 12}]"#))
            #expect(cliff.json["global_metrics"]?.arrayValue?.allSatisfy { $0["total_unlocked"]?.numberValue == 0 && ($0["price"]?.numberValue ?? 0) >= 0.01 } == true)
            // 11.1.5 one agent per cohort, two buckets.
            let one = try await client.call(.post, "/api/v2/abm/simulate-sync", json: abmBody(
                buckets: #"[{"bucket": "A", "allocation": 50, "tge_unlock_pct": 0, "cliff_months": 0, "vesting_months": 6}, {"bucket": "B", "allocation": 50, "tge_unlock_pct": 0, "cliff_months": 0, "vesting_months": 6}]"#,
                abm: #""agents_per_cohort": 1"#))
            #expect(one.json["num_agents"] == 2)
            // 11.1.6 500 agents.
            let many = try await client.call(.post, "/api/v2/abm/simulate-sync", json: abmBody(
                horizon: 3,
                buckets: #"[{"bucket": "Community", "allocation": 100, "tge_unlock_pct": 10, "cliff_months": 0, "vesting_months": 6}]"#,
                abm: #""agents_per_cohort": 500"#))
            #expect(many.json["num_agents"] == 500)
            #expect((many.json["execution_time_seconds"]?.numberValue ?? 99) < 30)
            // 11.1.21 bonding curve with ignored keys; 11.1.24 treasury with zero fee and no burn.
            let bonding = try await client.call(.post, "/api/v2/abm/simulate-sync", json: abmBody(
                horizon: 12, abm: #""pricing_model": "bonding_curve", "pricing_config": {"k": 0.001, "n": 2}"#))
            #expect(bonding.json["global_metrics"]?.arrayValue?.allSatisfy { ($0["price"]?.numberValue ?? 0) > 0 } == true)
            let treasury = try await client.call(.post, "/api/v2/abm/simulate-sync", json: abmBody(
                abm: #""enable_treasury": true, "treasury_config": {"transaction_fee_pct": 0, "burn_bought_tokens": false}"#))
            #expect(treasury.status == .ok)
        }
    }

    @Test func stakingStockStaysUnderCapacity() async throws {
        // 11.1.23.
        try await withApp { client in
            let r = try await client.call(.post, "/api/v2/abm/simulate-sync", json: abmBody(
                horizon: 12,
                buckets: #"[{"bucket": "Team", "allocation": 100, "tge_unlock_pct": 100, "cliff_months": 0, "vesting_months": 0}]"#,
                abm: #""enable_staking": true, "staking_config": {"max_capacity_pct": 0.3, "apy_multiplier_at_empty": 2.0, "apy_multiplier_at_full": 0.1}"#))
            let m11 = try #require(r.json["global_metrics"]?.arrayValue?[11])
            #expect((m11["total_staked"]?.numberValue ?? .infinity) <= 300_000 * 1.01)
        }
    }

    /// Finite inputs can still overflow a double on the way (a supply near the largest double): the answer
    /// is a 422 that says so, never a 200 whose numbers are null, and an async job fails with the same reason.
    @Test func overflowingResultsAre422() async throws {
        try await withApp { client in
            let huge = abmBody(supply: 1.7e308, horizon: 12)
            let sync = try await client.call(.post, "/api/v2/abm/simulate-sync", json: huge)
            #expect(sync.status == .unprocessableContent)
            let issue = sync.json["detail"]?.arrayValue?.first
            #expect(issue?["type"] == "value_error" && issue?["loc"] == ["body"])
            #expect(issue?["msg"]?.stringValue?.contains("overflowed") == true)
            let job = try await client.call(.post, "/api/v2/abm/simulate", json: huge)
            let id = try #require(job.json["job_id"]?.stringValue)
            var status = JSONValue.null
            for _ in 0..<500 {
                status = try await client.call(.get, "/api/v2/abm/jobs/\(id)/status").json
                if status["status"] == "failed" || status["status"] == "completed" { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(status["status"] == "failed")
            #expect(status["error"]?.stringValue?.contains("overflowed") == true)
            // An ordinary supply is untouched.
            #expect(try await client.call(.post, "/api/v2/abm/simulate-sync", json: abmBody(supply: 1e12)).status == .ok)
        }
    }

    @Test func schemaErrorsAre422() async throws {
        try await withApp { client in
            // 11.1.10, 11.1.11, 11.1.12, 11.1.13.
            let bodies = [
                #"{"token": {"name": "x"}, "buckets": []}"#,
                abmBody(abm: #""pricing_model": "invalid_model""#),
                #"{"token": {"name": "T", "total_supply": -1, "start_date": "2026-01-01", "horizon_months": 6, "initial_price": -1}, "buckets": [{"bucket": "A", "allocation": 10, "tge_unlock_pct": -5, "cliff_months": 0, "vesting_months": 0}], "abm": {"agents_per_cohort": -3}}"#,
                abmBody(buckets: "[]"),
                // D10/D11: what gave 500 in the original is a 422 or runs.
                abmBody(abm: #""pricing_config": {"holding_time": 0}"#),
                abmBody(abm: #""seed": 4294967296"#),
                abmBody(abm: #""enable_treasury": true, "treasury_config": {"hold_pct": 0.9}"#),
            ]
            for body in bodies {
                let r = try await client.call(.post, "/api/v2/abm/simulate-sync", json: body)
                #expect(r.status == .unprocessableContent, "\(body) -> \(r.status) \(r.body)")
                #expect(r.json["detail"]?.arrayValue?.isEmpty == false)
                #expect(r.json["detail"]?.arrayValue?.allSatisfy { $0["loc"]?.arrayValue?.first == "body" } == true)
            }
            let negative = try await client.call(.post, "/api/v2/abm/simulate-sync", json: bodies[2])
            #expect(negative.json["detail"]?.arrayValue?.count == 4)
            let nullConfig = try await client.call(.post, "/api/v2/abm/simulate-sync", json: abmBody(
                abm: #""enable_staking": true, "staking_config": null, "enable_volume": true, "volume_config": null"#))
            #expect(nullConfig.status == .ok)
        }
    }

    @Test func validateRoute() async throws {
        try await withApp { client in
            // 11.1.7 high agent count warning.
            let fourBuckets = (0..<4).map { #"{"bucket": "B\#($0)", "allocation": 25, "tge_unlock_pct": 0, "cliff_months": 0, "vesting_months": 12}"# }
            let high = try await client.call(.post, "/api/v2/abm/validate", json: #"{"config": {"token": {"name": "T", "total_supply": 1000000, "start_date": "2026-01-01", "horizon_months": 12}, "buckets": [\#(fourBuckets.joined(separator: ","))], "abm": {"agents_per_cohort": 500}}}"#)
            #expect(high.status == .ok)
            #expect(high.json["valid"] == true)
            #expect(high.json["warnings"]?.arrayValue?.contains { ($0.stringValue ?? "").contains("agent") } == true)
            // 11.1.8 over-allocation.
            let over = try await client.call(.post, "/api/v2/abm/validate", json: #"{"config": {"token": {"name": "T", "total_supply": 1000000, "start_date": "2026-01-01", "horizon_months": 12}, "buckets": [{"bucket": "A", "allocation": 60, "tge_unlock_pct": 0, "cliff_months": 0, "vesting_months": 1}, {"bucket": "B", "allocation": 60, "tge_unlock_pct": 0, "cliff_months": 0, "vesting_months": 1}]}}"#)
            #expect(over.status == .ok)
            #expect(over.json["valid"] == false)
            #expect(over.json["errors"] == ["buckets: Total allocation (120%) exceeds 100%"])
            // 11.1.9 long horizon.
            let long = try await client.call(.post, "/api/v2/abm/validate", json: #"{"config": {"token": {"name": "T", "total_supply": 1000000, "start_date": "2026-01-01", "horizon_months": 240}, "buckets": []}}"#)
            #expect(long.json["warnings"]?.arrayValue?.contains { ($0.stringValue ?? "").contains("horizon") } == true)
            // D36: wrong types are reported like simulate reports them, not a 400 with a Python message.
            let typed = try await client.call(.post, "/api/v2/abm/validate", json: #"{"config": {"token": {"name": "T", "total_supply": "lots", "start_date": "2026-01-01", "horizon_months": "x"}, "buckets": [{"bucket": "A", "allocation": "x", "tge_unlock_pct": 0, "cliff_months": 0, "vesting_months": 1}]}}"#)
            #expect(typed.status == .ok)
            #expect(typed.json["errors"]?.arrayValue?.map { $0.stringValue ?? "" }.contains { $0.hasPrefix("token.total_supply:") } == true)
            #expect(typed.json["errors"]?.arrayValue?.map { $0.stringValue ?? "" }.contains { $0.hasPrefix("buckets[0].allocation:") } == true)
            // Schema problems are 422.
            #expect(try await client.call(.post, "/api/v2/abm/validate", json: #"{"config": {"buckets": []}}"#).status == .unprocessableContent)
            #expect(try await client.call(.post, "/api/v2/abm/validate", json: #"{}"#).status == .unprocessableContent)
            #expect(try await client.call(.post, "/api/v2/abm/validate", json: #"{"config": {"token": {}, "buckets": [], "abm": {"agents_per_cohort": 0}}}"#).status == .unprocessableContent)
        }
    }

    @Test func asyncJobLifecycle() async throws {
        try await withApp { client in
            // 11.1.14.
            let submit = try await client.call(.post, "/api/v2/abm/simulate", json: abmBody(abm: #""agents_per_cohort": 50, "seed": 8"#))
            #expect(submit.status == .ok)
            let id = try #require(submit.json["job_id"]?.stringValue)
            #expect(id.hasPrefix("abm_"))
            #expect(submit.json["status_url"]?.stringValue == "/api/v2/abm/jobs/\(id)/status")
            #expect(submit.json["stream_url"]?.stringValue == "/api/v2/abm/jobs/\(id)/stream")
            #expect(submit.json["cached"] == false)
            let status = try await client.waitForJob(id)
            #expect(status["job_id"]?.stringValue == id)
            #expect(status["status"] == "completed")
            #expect(status["progress_pct"] == 100.0)
            let results = try await client.call(.get, "/api/v2/abm/jobs/\(id)/results")
            #expect(results.json["global_metrics"]?.arrayValue?.count == 6)
            // D18: the same payload as sync (cohort metrics, cohort count).
            let sync = try await client.call(.post, "/api/v2/abm/simulate-sync", json: abmBody(abm: #""agents_per_cohort": 50, "seed": 8"#))
            var a = results.json.objectValue!
            var b = sync.json.objectValue!
            a["execution_time_seconds"] = nil
            b["execution_time_seconds"] = nil
            #expect(a == b)
            // 11.1.17 cache.
            let again = try await client.call(.post, "/api/v2/abm/simulate", json: abmBody(abm: #""agents_per_cohort": 50, "seed": 8"#))
            #expect(again.json["cached"] == true)
            let cachedID = try #require(again.json["job_id"]?.stringValue)
            #expect(cachedID.hasPrefix("cached_"))
            #expect(try await client.call(.get, "/api/v2/abm/jobs/\(cachedID)/status").json["status"] == "completed")
            // 11.1.18, 11.1.19.
            let list = try await client.call(.get, "/api/v2/abm/jobs")
            #expect(list.json["jobs"]?.arrayValue?.map { $0["job_id"]?.stringValue } == [id, cachedID])
            let createdAt = list.json["jobs"]?.arrayValue?[0]["created_at"]?.stringValue ?? ""
            #expect(createdAt.hasSuffix("+00:00") && createdAt.count == 32)
            let stats = try await client.call(.get, "/api/v2/abm/queue/stats")
            #expect(stats.json["total_jobs"] == 2)
            #expect(stats.json["cache_size"] == 1)
            #expect(stats.json["max_concurrent_jobs"] == 5)
            #expect(stats.json["status_counts"]?["completed"] == 2)
        }
    }

    @Test func migrationWarningsReachAsyncResults() async throws {
        // D18/D38.
        try await withApp { client in
            let body = abmBody().replacingOccurrences(of: "\"horizon_months\": 6", with: "\"horizon_months\": 6, \"simulation_mode\": \"tier2\"")
            let id = try #require(try await client.call(.post, "/api/v2/abm/simulate", json: body).json["job_id"]?.stringValue)
            _ = try await client.waitForJob(id)
            let warnings = try await client.call(.get, "/api/v2/abm/jobs/\(id)/results").json["warnings"]?.arrayValue ?? []
            #expect(warnings.first == "Legacy simulation mode 'tier2' detected. Migrating to ABM (Agent-Based Model) format.")
        }
    }

    @Test func unknownAndUnfinishedJobs() async throws {
        try await withApp({ $0.maxConcurrentJobs = 1 }) { client in
            // 11.1.15.
            #expect(try await client.call(.get, "/api/v2/abm/jobs/abm_000000000000/status").status == .notFound)
            #expect(try await client.call(.get, "/api/v2/abm/jobs/nope/results").json == ["detail": "Job nope not found"])
            #expect(try await client.call(.get, "/api/v2/abm/jobs/nope/stream").status == .notFound)
            #expect(try await client.call(.delete, "/api/v2/abm/jobs/nope").status == .badRequest)
            // 11.1.16: results asked for early are 200, or 400 "not completed".
            let id = try #require(try await client.call(.post, "/api/v2/abm/simulate", json: abmBody(horizon: 24, abm: #""agents_per_cohort": 100"#)).json["job_id"]?.stringValue)
            let early = try await client.call(.get, "/api/v2/abm/jobs/\(id)/results")
            #expect(early.status == .ok || (early.status == .badRequest && early.detail.contains("not completed")))
            let long = String(repeating: "x", count: 10_000)
            let huge = try await client.call(.get, "/api/v2/abm/jobs/\(long)/status")
            #expect(huge.status == .notFound)
            #expect(huge.body.count < 200)
        }
    }

    @Test func concurrentSubmissionsGetDistinctIDs() async throws {
        // 11.1.20 and 11.10.15.
        try await withApp { client in
            let ids = try await withThrowingTaskGroup(of: String?.self) { group in
                for i in 0..<5 {
                    group.addTask { try await client.call(.post, "/api/v2/abm/simulate", json: abmBody(abm: #""seed": \#(i + 50)"#)).json["job_id"]?.stringValue }
                }
                return try await group.reduce(into: [String]()) { if let id = $1 { $0.append(id) } }
            }
            #expect(Set(ids).count == 5)
        }
    }

    @Test func queueFullIs429WithRetryAfter() async throws {
        // D21/D24: a bounded queue answers 429 with Retry-After, on both submit routes.
        try await withApp({ $0.maxConcurrentJobs = 1; $0.maxQueuedJobs = 0 }) { client in
            var statuses: [HTTPResponse.Status] = []
            var retry: String?
            for i in 0..<4 {
                let r = try await client.call(.post, "/api/v2/abm/simulate", json: abmBody(horizon: 240, abm: #""agents_per_cohort": 1000, "seed": \#(i)"#))
                statuses.append(r.status)
                if r.status == .tooManyRequests { retry = r.headers[.retryAfter] }
            }
            #expect(statuses.contains(.tooManyRequests))
            #expect(retry == "5")
            let mc = try await client.call(.post, "/api/v2/abm/monte-carlo/simulate", json: abmBody(extra: #", "monte_carlo": {"num_trials": 10}"#))
            #expect(mc.status == .tooManyRequests)
            #expect(mc.detail.contains("queue is full"))
        }
    }

    @Test func monteCarloRoutes() async throws {
        try await withApp { client in
            // 11.2.1.
            let missing = try await client.call(.post, "/api/v2/abm/monte-carlo/simulate", json: abmBody())
            #expect(missing.status == .badRequest)
            #expect(missing.detail.lowercased().contains("monte carlo"))
            // 11.2.2, now passing (D20).
            let submit = try await client.call(.post, "/api/v2/abm/monte-carlo/simulate", json: abmBody(horizon: 3, extra: #", "monte_carlo": {"num_trials": 10, "seed": 123}"#))
            #expect(submit.status == .ok)
            let id = try #require(submit.json["job_id"]?.stringValue)
            #expect(id.hasPrefix("mc_"))
            #expect(["pending", "running"].contains(submit.json["status"]?.stringValue ?? ""))
            #expect(submit.json["results_url"]?.stringValue?.hasSuffix("/api/v2/abm/monte-carlo/results/\(id)") == true)
            #expect(try await client.waitForJob(id)["status"] == "completed")
            let r = try await client.call(.get, "/api/v2/abm/monte-carlo/results/\(id)").json
            #expect(r["trials"]?.arrayValue?.count == 10)
            #expect(r["percentiles"]?.arrayValue?.count == 3)
            #expect(r["mean_metrics"]?.arrayValue?.count == 3)
            #expect(r["summary"]?["num_trials"] == 10)
            #expect((r["execution_time_seconds"]?.numberValue ?? -1) >= 0)
            let t0 = try #require(r["trials"]?.arrayValue?[0])
            #expect(t0["trial_index"] == 0)
            #expect(t0["global_metrics"]?.arrayValue?.map { $0["month_index"] } == [0, 1, 2])
            #expect((t0["final_price"]?.numberValue ?? 0) > 0)
            #expect([10, 50, 90].contains(r["percentiles"]?.arrayValue?[0]["percentile"]?.numberValue.map { Int($0) } ?? -1))
            #expect(r["percentiles"]?.arrayValue?[0]["global_metrics"]?.arrayValue?.count == 3)
            // D40: the ABM results route points to the Monte Carlo route.
            let wrong = try await client.call(.get, "/api/v2/abm/jobs/\(id)/results")
            #expect(wrong.status == .notFound)
            #expect(wrong.detail.contains("/api/v2/abm/monte-carlo/results/\(id)"))
            // 11.2.3.
            let abmID = try #require(try await client.call(.post, "/api/v2/abm/simulate", json: abmBody()).json["job_id"]?.stringValue)
            _ = try await client.waitForJob(abmID)
            let notMC = try await client.call(.get, "/api/v2/abm/monte-carlo/results/\(abmID)")
            #expect(notMC.status == .notFound)
            #expect(notMC.detail.lowercased().contains("monte carlo"))
            // D22: bad levels are refused at submit.
            let badLevels = try await client.call(.post, "/api/v2/abm/monte-carlo/simulate", json: abmBody(extra: #", "monte_carlo": {"confidence_levels": [150]}"#))
            #expect(badLevels.status == .unprocessableContent)
        }
    }

    @Test func cancellingAJob() async throws {
        // D19: a cancelled job reports "cancelled" with 200; pending jobs can be cancelled too (D24 queue).
        let hold = HeldJobs()
        try await withApp({ $0.maxConcurrentJobs = 1 }, hold: hold) { client in
            let blocker = try #require(try await client.call(.post, "/api/v2/abm/simulate", json: abmBody(abm: #""seed": 76"#)).json["job_id"]?.stringValue)
            let queued = try #require(try await client.call(.post, "/api/v2/abm/simulate", json: abmBody(abm: #""seed": 77"#)).json["job_id"]?.stringValue)
            let cancel = try await client.call(.delete, "/api/v2/abm/jobs/\(queued)")
            #expect(cancel.status == .ok)
            #expect(cancel.json == ["message": .string("Job \(queued) cancelled")])
            let s = try await client.call(.get, "/api/v2/abm/jobs/\(queued)/status")
            #expect(s.status == .ok)
            #expect(s.json["status"] == "cancelled")
            #expect(try await client.call(.get, "/api/v2/abm/jobs/\(queued)/results").detail == "Job not completed yet. Status: cancelled")
            #expect(try await client.call(.delete, "/api/v2/abm/jobs/\(queued)").detail == "Job \(queued) not found or not cancellable")
            hold.release()
            #expect(try await client.waitForJob(blocker)["status"] == "completed")
            #expect(try await client.call(.delete, "/api/v2/abm/jobs/\(blocker)").status == .badRequest)
        }
    }
}
