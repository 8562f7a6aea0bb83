import Simulation

/// Component schemas of `/openapi.json`. Request schemas state the bounds the service enforces; inputs are
/// coerced leniently (numeric strings, `12.0` for integers), so the service accepts more than they show.
enum OpenAPISchemas {
    typealias D = OpenAPIDocument

    static var all: JSONObject {
        let pct = D.num(0, 100)
        let fraction = D.num(0, 1)
        let positive = D.num(0, nil, exclusiveMin: true)
        let stringMap: JSONValue = ["type": "object", "additionalProperties": D.str]
        let globalMetric = D.obj(
            [
                ("month_index", D.int(0)), ("date", D.str), ("price", D.num()), ("circulating_supply", D.num()),
                ("total_unlocked", D.num()), ("total_sold", D.num()), ("total_staked", D.num()), ("total_held", D.num()),
            ],
            required: ["month_index", "date", "price", "circulating_supply", "total_unlocked", "total_sold", "total_staked", "total_held"])
        let band = D.nullable(D.num())
        var v1Global: [(String, JSONValue)] = [
            ("month_index", D.int(0)), ("date", D.str), ("total_unlocked", D.num()), ("total_expected_sell", D.num()),
            ("expected_circulating_total", D.num()), ("expected_circulating_pct", D.num()),
            ("sell_volume_ratio", band), ("current_price", band), ("staked_amount", band), ("liquidity_deployed", band),
            ("treasury_balance", band),
        ]
        for m in ["total_unlocked", "total_expected_sell", "expected_circulating_total", "current_price"] {
            for s in ["p10", "p90", "median", "std"] { v1Global.append(("\(m)_\(s)", band)) }
        }
        let stakingState = D.obj(
            ["apy", "utilization_pct", "new_stake", "rejected_stake", "unlocked_principal", "rewards_paid", "rewards_unpaid",
             "pool_balance", "total_rewards_paid"].map { ($0, D.num()) })
        let treasuryState = D.obj(
            ["fees_collected", "total_fees_collected", "fiat_balance", "held_fiat", "token_balance", "liquidity_deployed_fiat",
             "liquidity_deployed_tokens", "tokens_bought", "tokens_burned", "total_tokens_burned"].map { ($0, D.num()) })

        return JSONObject([
            ("DetailMessage", D.obj([("detail", D.str)], required: ["detail"])),
            ("Message", D.obj([("message", D.str)], required: ["message"])),
            ("RateLimited", ["oneOf": [D.obj([("error", D.str)], required: ["error"]), D.obj([("detail", D.str)], required: ["detail"])]]),
            ("RequestTooLarge", D.obj([("status", D.str), ("error_type", D.str), ("message", D.str)], required: ["status", "error_type", "message"])),
            ("ValidationIssue", D.obj(
                [("type", D.str), ("loc", D.arr(["oneOf": [D.str, D.int()]])), ("msg", D.str), ("input", [:]), ("ctx", D.freeObject)],
                required: ["type", "loc", "msg"])),
            ("HTTPValidationError", ["oneOf": [
                D.obj([("detail", D.arr(D.ref("ValidationIssue")))], required: ["detail"]),
                D.obj([("detail", D.freeObject)], required: ["detail"]),
            ]]),
            ("Banner", D.obj([("message", D.str), ("version", D.str), ("docs", D.str)], required: ["message", "version", "docs"])),
            ("HealthV1", D.obj(
                [("status", D.str), ("version", D.str), ("uptime_seconds", D.int(0)), ("cpu_percent", D.num()), ("memory_percent", D.num())],
                required: ["status", "version", "uptime_seconds", "cpu_percent", "memory_percent"])),
            ("Liveness", D.obj([("status", D.str)], required: ["status"])),
            // One Server-Sent Event as a client's parser sees it; `data` holds one JSON progress object.
            ("ProgressEvent", D.obj([("id", D.str), ("event", D.str), ("data", D.str), ("retry", D.int(0))], required: ["data"])),
            ("PrometheusAlert", D.obj(
                [("labels", stringMap), ("annotations", stringMap), ("state", D.enumeration(["pending", "firing"])), ("activeAt", D.str), ("value", D.str)],
                required: ["labels", "annotations", "state", "activeAt", "value"])),
            ("PrometheusAlerts", D.obj(
                [("status", D.enumeration(["success"])), ("data", D.obj([("alerts", D.arr(D.ref("PrometheusAlert")))], required: ["alerts"]))],
                required: ["status", "data"])),
            ("PrometheusRule", D.obj(
                [("type", D.enumeration(["alerting", "recording"])), ("name", D.str), ("query", D.str), ("duration", D.num(0)), ("keepFiringFor", D.num(0)),
                 ("labels", stringMap), ("annotations", stringMap), ("alerts", D.arr(D.ref("PrometheusAlert"))),
                 ("state", D.enumeration(["inactive", "pending", "firing"])), ("health", D.enumeration(["ok", "err", "unknown"])), ("lastError", D.str),
                 ("evaluationTime", D.num(0)), ("lastEvaluation", D.str)],
                required: ["type", "name", "query", "labels", "health", "evaluationTime", "lastEvaluation"])),
            ("PrometheusRules", D.obj(
                [("status", D.enumeration(["success"])),
                 ("data", D.obj([("groups", D.arr(D.obj(
                    [("name", D.str), ("file", D.str), ("rules", D.arr(D.ref("PrometheusRule"))), ("interval", D.num(0)), ("limit", D.int(0)),
                     ("evaluationTime", D.num(0)), ("lastEvaluation", D.str)],
                    required: ["name", "file", "rules", "interval", "evaluationTime", "lastEvaluation"])))], required: ["groups"]))],
                required: ["status", "data"])),
            ("HealthReport", D.obj(
                [("status", D.enumeration(["pass", "warn", "fail"])), ("version", D.str), ("releaseId", D.str), ("serviceId", D.str),
                 ("checks", ["type": "object", "additionalProperties": D.arr(D.obj([("status", D.enumeration(["pass", "warn", "fail"]))], required: ["status"]))]),
                 ("notes", D.arr(D.str))],
                required: ["status", "checks"])),
            ("Readiness", D.obj([("status", D.str), ("checks", ["type": "object", "additionalProperties": D.bool])], required: ["status", "checks"])),
            ("TokenConfig", D.obj(
                [("name", ["type": "string", "minLength": 1]), ("total_supply", positive), ("start_date", ["type": "string", "format": "date"]),
                 ("horizon_months", D.int(1, 240)), ("initial_price", D.nullable(positive)), ("simulation_mode", D.nullable(D.str))],
                required: ["name", "total_supply", "start_date", "horizon_months"])),
            ("BucketConfig", D.obj(
                [("bucket", ["type": "string", "minLength": 1]), ("allocation", pct), ("tge_unlock_pct", pct),
                 ("cliff_months", D.int(0, 1200)), ("vesting_months", D.int(0, 1200)), ("num_holders", D.nullable(D.int(1, 1_000_000_000)))],
                required: ["bucket", "allocation", "tge_unlock_pct", "cliff_months", "vesting_months"])),
            ("ABMConfig", D.obj([
                ("agent_granularity", D.enumeration(AgentGranularity.allCases.map(\.rawValue))),
                ("agents_per_cohort", D.nullable(D.int(1, 1000))),
                ("pricing_model", D.enumeration(PricingModel.allCases.map(\.rawValue))),
                ("pricing_config", D.obj([
                    ("holding_time", positive), ("smoothing_factor", fraction), ("min_price", positive), ("initial_price", D.nullable(positive)),
                    ("initial_supply", positive), ("curve_exponent", D.num(0, 10)), ("max_supply", positive), ("alpha", D.num(0, 10)),
                    ("price", D.nullable(positive)),
                ])),
                ("enable_staking", D.bool),
                ("staking_config", D.nullable(D.obj([
                    ("base_apy", D.num(0, 10)), ("max_capacity_pct", fraction), ("lockup_months", D.int(0, 240)),
                    ("reward_source", D.enumeration(RewardSource.allCases.map(\.rawValue))),
                    ("apy_multiplier_at_empty", D.num(0, 100)), ("apy_multiplier_at_full", D.num(0, 100)),
                ]))),
                ("enable_treasury", D.bool),
                ("treasury_config", D.nullable(D.obj([
                    ("initial_balance_pct", fraction), ("transaction_fee_pct", fraction), ("hold_pct", fraction),
                    ("liquidity_pct", fraction), ("buyback_pct", fraction), ("burn_bought_tokens", D.bool),
                ]))),
                ("enable_volume", D.bool),
                ("volume_config", D.nullable(D.obj([
                    ("volume_model", D.enumeration(VolumeModel.allCases.map(\.rawValue))), ("base_daily_volume", positive),
                    ("volume_multiplier", D.num(0.1, 100)),
                ]))),
                ("bucket_cohort_mapping", D.nullable(["type": "object", "additionalProperties": D.str])),
                ("store_cohort_details", D.bool),
                ("aggregation_level", D.enumeration(AggregationLevel.allCases.map(\.rawValue))),
                ("seed", D.nullable(D.int(0, 4_294_967_295))),
            ])),
            ("CohortProfileOverride", D.obj([
                ("sell_pressure_mean", D.nullable(fraction)), ("sell_pressure_std", D.nullable(D.num(0, 0.5))),
                ("stake_probability", D.nullable(fraction)), ("risk_tolerance_mean", D.nullable(fraction)),
            ])),
            ("MonteCarloConfig", D.obj([
                ("enabled", D.bool), ("num_trials", D.int(10, 1000)), ("variance_level", D.enumeration(VarianceLevel.allCases.map(\.rawValue))),
                ("seed", D.nullable(D.int(0, 4_294_967_295))), ("confidence_levels", D.arr(D.int(0, 100), minItems: 1)),
            ])),
            ("ABMSimulationRequest", D.obj([
                ("token", D.ref("TokenConfig")), ("buckets", D.arr(D.ref("BucketConfig"), minItems: 1, maxItems: 1000)),
                ("abm", D.ref("ABMConfig")),
                ("cohort_profiles", D.nullable(["type": "object", "additionalProperties": D.ref("CohortProfileOverride")])),
                ("monte_carlo", D.nullable(D.ref("MonteCarloConfig"))),
            ], required: ["token", "buckets"])),
            ("ABMValidateRequest", D.obj([
                ("config", D.obj([("token", D.freeObject), ("buckets", D.arr(D.freeObject)), ("abm", D.ref("ABMConfig"))], required: ["token", "buckets"])),
            ], required: ["config"])),
            ("GlobalMetric", globalMetric),
            ("CohortMetric", D.obj(
                [("month_index", D.int(0)), ("cohort_name", D.str), ("total_sold", D.num()), ("total_staked", D.num()), ("total_held", D.num()), ("num_agents", D.int(0))],
                required: ["month_index", "cohort_name", "total_sold", "total_staked", "total_held", "num_agents"])),
            ("AgentSnapshot", D.obj(
                [("agent_id", D.str), ("cohort", D.str), ("month_index", D.int(0)), ("locked_balance", D.num()), ("unlocked_balance", D.num()),
                 ("staked_balance", D.num()), ("sold_cumulative", D.num())])),
            ("SummaryCards", D.obj(
                [("max_sell_month", D.int(0)), ("max_sell_tokens", D.num()), ("final_price", D.num()), ("final_circulating_supply", D.num()),
                 ("total_tokens_sold", D.num()), ("average_price", D.num())],
                required: ["max_sell_month", "max_sell_tokens", "final_price", "final_circulating_supply", "total_tokens_sold", "average_price"])),
            ("DynamicsMonth", D.obj(
                [("month_index", D.int(0)), ("total_supply", D.num()), ("staking", D.nullable(stakingState)), ("treasury", D.nullable(treasuryState))],
                required: ["month_index", "total_supply", "staking", "treasury"])),
            ("ABMSimulationResults", D.obj([
                ("global_metrics", D.arr(D.ref("GlobalMetric"))), ("cohort_metrics", D.nullable(D.arr(D.ref("CohortMetric")))),
                ("agent_snapshots", D.nullable(D.arr(D.ref("AgentSnapshot")))), ("summary", D.ref("SummaryCards")),
                ("execution_time_seconds", D.num(0)), ("num_agents", D.int(0)), ("num_cohorts", D.int(0)), ("warnings", D.arr(D.str)),
                ("seed", D.int(0)), ("dynamics_metrics", D.nullable(D.arr(D.ref("DynamicsMonth")))),
            ], required: ["global_metrics", "cohort_metrics", "agent_snapshots", "summary", "execution_time_seconds", "num_agents", "num_cohorts", "warnings", "seed", "dynamics_metrics"])),
            ("JobSubmissionResponse", D.obj(
                [("job_id", D.str), ("status", D.enumeration(["pending", "running", "completed", "failed", "cancelled"])), ("status_url", D.str),
                 ("stream_url", D.str), ("cached", D.bool), ("results_url", D.str)],
                required: ["job_id", "status", "status_url", "stream_url", "cached", "results_url"])),
            ("JobStatusResponse", D.obj(
                [("job_id", D.str), ("status", D.enumeration(["pending", "running", "completed", "failed", "cancelled"])), ("progress_pct", D.num(0, 100)),
                 ("current_month", D.int(0)), ("total_months", D.int(0)), ("error", D.nullable(D.str)),
                 ("trace_id", D.nullable(D.str))],
                required: ["job_id", "status", "progress_pct", "current_month", "total_months", "error"])),
            ("JobInfo", D.obj(
                [("job_id", D.str), ("status", D.str), ("created_at", D.str), ("started_at", D.nullable(D.str)), ("completed_at", D.nullable(D.str)),
                 ("current_month", D.int(0)), ("total_months", D.int(0)), ("progress_pct", D.num(0, 100)), ("error", D.nullable(D.str))],
                required: ["job_id", "status", "created_at", "started_at", "completed_at", "current_month", "total_months", "progress_pct", "error"])),
            ("JobList", D.obj([("jobs", D.arr(D.ref("JobInfo"))), ("next_cursor", D.nullable(D.str))], required: ["jobs", "next_cursor"])),
            ("QueueStats", D.obj(
                [("total_jobs", D.int(0)), ("status_counts", ["type": "object", "additionalProperties": D.int(0)]), ("cache_size", D.int(0)),
                 ("max_concurrent_jobs", D.int(1)), ("max_queued_jobs", D.int(0))],
                required: ["total_jobs", "status_counts", "cache_size", "max_concurrent_jobs"])),
            ("ValidateResponse", D.obj([("valid", D.bool), ("warnings", D.arr(D.str)), ("errors", D.arr(D.str))], required: ["valid", "warnings", "errors"])),
            ("MonteCarloResults", D.obj([
                ("trials", D.arr(D.obj([("trial_index", D.int(0)), ("global_metrics", D.arr(D.ref("GlobalMetric"))), ("final_price", D.num()), ("total_sold", D.num()), ("seed", D.int(0))]))),
                ("percentiles", D.arr(D.obj([("percentile", D.int(0, 100)), ("global_metrics", D.arr(D.ref("GlobalMetric"))), ("final_price", D.num()), ("total_sold", D.num())]))),
                ("mean_metrics", D.arr(D.ref("GlobalMetric"))), ("summary", D.freeObject), ("execution_time_seconds", D.num(0)),
                ("seed", D.int(0)), ("variance_level", D.str),
            ], required: ["trials", "percentiles", "mean_metrics", "summary", "execution_time_seconds"])),
            ("V1SimulationRequest", D.obj([("config", D.obj([
                ("token", D.obj(
                    [("name", ["type": "string", "minLength": 1, "maxLength": 100]), ("total_supply", D.int(0)),
                     ("start_date", ["type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}$"]), ("horizon_months", D.int(0, 240)),
                     ("allocation_mode", D.enumeration(["percent", "tokens"])), ("simulation_mode", D.enumeration(["tier1", "tier2", "tier3"]))],
                    required: ["name", "total_supply", "start_date", "horizon_months"])),
                ("assumptions", D.freeObject), ("behaviors", D.freeObject),
                ("buckets", D.arr(D.obj(
                    [("bucket", ["type": "string", "minLength": 1]), ("allocation", D.num(0)), ("tge_unlock_pct", pct), ("cliff_months", D.int(0, 1200)),
                     ("vesting_months", D.int(0, 1200)), ("unlock_type", D.enumeration(["linear"]))],
                    required: ["bucket", "allocation", "tge_unlock_pct", "cliff_months", "vesting_months"]), minItems: 1, maxItems: 1000)),
                ("tier2", D.freeObject), ("tier3", D.freeObject),
            ], required: ["token", "buckets"]))], required: ["config"])),
            ("V1ValidateRequest", D.obj([("config", D.freeObject)], required: ["config"])),
            ("V1SimulationResponse", D.obj([
                ("status", D.str), ("execution_time_ms", D.num(0)), ("warnings", D.arr(D.str)),
                ("data", D.obj([
                    ("bucket_results", D.arr(D.obj(
                        [("month_index", D.int(0)), ("date", D.str), ("bucket", D.str), ("allocation_tokens", D.num()), ("unlocked_this_month", D.num()),
                         ("unlocked_cumulative", D.num()), ("locked_remaining", D.num()), ("sell_pressure_effective", D.num()),
                         ("expected_sell_this_month", D.num()), ("expected_circulating_cumulative", D.num())]))),
                    ("global_metrics", D.arr(D.obj(v1Global))),
                    ("summary_cards", D.obj(
                        [("max_unlock_tokens", D.num()), ("max_unlock_month", D.int(0)), ("max_sell_tokens", D.num()), ("max_sell_month", D.int(0)),
                         ("circ_12_pct", band), ("circ_24_pct", band), ("circ_end_pct", D.num())])),
                ], required: ["bucket_results", "global_metrics", "summary_cards"])),
            ], required: ["status", "execution_time_ms", "warnings", "data"])),
        ])
    }
}
