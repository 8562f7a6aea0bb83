import Simulation

/// The work a simulation will do, computed from the request before it runs, against `ABM_MAX_WORK_UNITS`:
/// agent-months times trials for the agent-based model (`PopulationPlan` gives the agents), bucket-months
/// times trials for the v1 simulator. A request over the budget is a 422 that names the budget, the setting
/// and the fields to reduce; nothing runs.
struct WorkBudget: Sendable {
    let maxUnits: Int

    static func units(_ request: ABMRequest, trials: Int = 1) -> Int {
        let (a, overflowA) = PopulationPlan(request).totalAgents.multipliedReportingOverflow(by: request.token.horizonMonths)
        let (b, overflowB) = a.multipliedReportingOverflow(by: max(1, trials))
        return overflowA || overflowB ? .max : b
    }

    static func units(_ config: V1Config) -> Int {
        let trials = config.token.simulationMode == .tier3 && config.monteCarlo.enabled ? config.monteCarlo.numTrials : 1
        return config.buckets.count * config.token.horizonMonths * max(1, trials)
    }

    func check(_ units: Int, unit: String, reduce: String) throws {
        guard units > maxUnits else { return }
        throw APIError.validation(
            ValidationFailure([
                ValidationIssue(
                    type: "value_error", loc: [],
                    msg: "This simulation would take \(units) \(unit), over the work budget of \(maxUnits) (ABM_MAX_WORK_UNITS). Reduce \(reduce).",
                    input: .null, ctx: ["work_units": .int(Int64(units)), "max_work_units": .int(Int64(maxUnits))])
            ]))
    }

    func check(_ request: ABMRequest, trials: Int = 1) throws {
        try check(
            Self.units(request, trials: trials), unit: "agent-months" + (trials > 1 ? " across its trials" : ""),
            reduce: trials > 1
                ? "monte_carlo.num_trials, token.horizon_months, abm.agents_per_cohort or the number of buckets"
                : "token.horizon_months, abm.agents_per_cohort or the number of buckets")
    }

    func check(_ config: V1Config) throws {
        try check(
            Self.units(config), unit: "bucket-months across its trials",
            reduce: "tier3.monte_carlo.num_trials, token.horizon_months or the number of buckets")
    }
}
