import Simulation

/// The work a simulation will do and the size of its result, computed from the request before it runs:
/// agent-months times trials for the agent-based model (`PopulationPlan` gives the agents), bucket-months
/// times trials for the v1 simulator, against `ABM_MAX_WORK_UNITS`; the result's predicted JSON size
/// (`ResultSize`) against `ABM_MAX_RESULT_BYTES`. A request over either is a 422 that names the limit, the
/// setting and the fields to reduce; nothing runs.
struct WorkBudget: Sendable {
    let maxUnits: Int
    let maxResultBytes: Int

    static func units(_ request: ABMRequest, trials: Int = 1) -> Int {
        let (a, overflowA) = PopulationPlan(request).totalAgents.multipliedReportingOverflow(by: request.token.horizonMonths)
        let (b, overflowB) = a.multipliedReportingOverflow(by: max(1, trials))
        return overflowA || overflowB ? .max : b
    }

    static func units(_ config: V1Config) -> Int {
        let trials = config.token.simulationMode == .tier3 && config.monteCarlo.enabled ? config.monteCarlo.numTrials : 1
        return config.buckets.count * config.token.horizonMonths * max(1, trials)
    }

    /// The 422 of a request over one of the limits: one `value_error` with the figures in `ctx`.
    static func refusal(_ msg: String, _ ctx: [(String, Int)]) -> APIError {
        .validation(
            ValidationFailure([
                ValidationIssue(
                    type: "value_error", loc: [], msg: msg, input: .null,
                    ctx: .object(JSONObject(ctx.map { ($0.0, JSONValue.int(Int64($0.1))) })))
            ]))
    }

    func check(_ units: Int, unit: String, reduce: String) throws {
        guard units > maxUnits else { return }
        throw Self.refusal(
            "This simulation would take \(units) \(unit), over the work budget of \(maxUnits) (ABM_MAX_WORK_UNITS). Reduce \(reduce).",
            [("work_units", units), ("max_work_units", maxUnits)])
    }

    func checkResult(_ bytes: Int, reduce: String) throws {
        guard bytes > maxResultBytes else { return }
        throw Self.refusal(
            "This simulation's result would be up to \(bytes) bytes of JSON, over the result limit of \(maxResultBytes) bytes (ABM_MAX_RESULT_BYTES). Reduce \(reduce).",
            [("result_bytes", bytes), ("max_result_bytes", maxResultBytes)])
    }

    /// `trials` is nil for a single run, the trial count for a Monte Carlo study.
    func check(_ request: ABMRequest, trials: Int? = nil) throws {
        if let trials {
            try checkResult(ResultSize.monteCarlo(request, trials: trials), reduce: "monte_carlo.num_trials or token.horizon_months")
        } else {
            try checkResult(
                ResultSize.abm(request),
                reduce: "token.horizon_months or the number of buckets, or use abm.aggregation_level 'cohort' and abm.store_cohort_details false")
        }
        let trials = trials ?? 1
        try check(
            Self.units(request, trials: trials), unit: "agent-months" + (trials > 1 ? " across its trials" : ""),
            reduce: trials > 1
                ? "monte_carlo.num_trials, token.horizon_months, abm.agents_per_cohort or the number of buckets"
                : "token.horizon_months, abm.agents_per_cohort or the number of buckets")
    }

    func check(_ config: V1Config) throws {
        try checkResult(ResultSize.v1(config), reduce: "token.horizon_months or the number of buckets")
        try check(
            Self.units(config), unit: "bucket-months across its trials",
            reduce: "tier3.monte_carlo.num_trials, token.horizon_months or the number of buckets")
    }
}
