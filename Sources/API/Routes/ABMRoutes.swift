import Foundation
import Hummingbird
import Jobs
import Simulation

/// The synchronous ABM run and the lenient config check (spec 3.8, 3.16).
struct ABMRoutes {
    let services: APIServices

    func register(on router: Router<ABMRequestContext>) {
        router.post("/api/v2/abm/simulate-sync") { request, context in
            let abm = try await decodeABM(request)
            // D37: off the HTTP threads, at most ABM_MAX_SYNC_SIMULATIONS at once, streamed as it is encoded.
            return try await services.sync.respond(context) { isCancelled in
                let clock = ContinuousClock()
                let start = clock.now
                var result = try ABMSimulation.run(abm, progress: { _, _ in !isCancelled() })
                result.executionTimeSeconds = (clock.now - start).asSeconds
                guard result.isFinite else { throw SimulationError.overflow }
                SimulationMetrics.record(
                    engine: "abm", agentMonths: result.numAgents * result.globalMetrics.count, seconds: result.executionTimeSeconds,
                    factory: services.telemetry.metricsFactory)
                return result.jsonStream()
            }
        }
        router.post("/api/v2/abm/validate") { request, _ in
            try await validate(try await services.jsonBody(request))
        }
    }

    func decodeABM(_ request: Request) async throws -> ABMRequest {
        switch ABMRequestDecoder.decode(try await services.jsonBody(request)) {
        case .success(let r):
            try services.workBudget.check(r)
            return r
        case .failure(let f): throw APIError.validation(f)
        }
    }

    /// D36: the same validation as simulate. Schema problems of `config` itself, `token`/`buckets` presence
    /// and `abm`/`cohort_profiles`/`monte_carlo` stay 422 as in the original; every problem with token and
    /// bucket values is an entry of `errors`. The original's own checks keep their wording.
    func validate(_ body: JSONValue) throws -> Response {
        let config = try services.configObject(body, issueType: "model_attributes_type")
        let configValue = JSONValue.object(config)
        var schema: [ValidationIssue] = []
        if config["token"]?.objectValue == nil {
            schema.append(
                config["token"] == nil
                    ? ValidationIssue(type: "missing", loc: [.key("config"), .key("token")], msg: "Field required", input: configValue)
                    : ValidationIssue(
                        type: "dict_type", loc: [.key("config"), .key("token")], msg: "Input should be a valid dictionary",
                        input: config["token"]))
        }
        if config["buckets"]?.arrayValue == nil {
            schema.append(
                config["buckets"] == nil
                    ? ValidationIssue(type: "missing", loc: [.key("config"), .key("buckets")], msg: "Field required", input: configValue)
                    : ValidationIssue(
                        type: "list_type", loc: [.key("config"), .key("buckets")], msg: "Input should be a valid list",
                        input: config["buckets"]))
        }
        let issues = IssueCollector()
        let request = ABMRequestDecoder.decode(FieldReader(config, path: [.key("config")], issues: issues))
        let strict: Set<String> = ["abm", "cohort_profiles", "monte_carlo"]
        for issue in issues.issues {
            if case .key(let section) = issue.loc.dropFirst().first, strict.contains(section) { schema.append(issue) }
        }
        if !schema.isEmpty { throw APIError.validation(ValidationFailure(schema)) }

        var errors: [String] = []
        var warnings: [String] = []
        let buckets = config["buckets"]?.arrayValue ?? []
        // The original's checks on the raw values, in its wording (integers print without ".0").
        let allocations = buckets.compactMap { $0["allocation"] }
        let numeric = allocations.compactMap(\.numberValue)
        if numeric.count == allocations.count {
            let total = numeric.reduce(0, +)
            if total > 100.01 {
                let allInts = allocations.allSatisfy { if case .int = $0 { return true } else { return false } }
                let text = allInts ? String(Int64(total)) : PythonFormat.float(total)
                // Named like every other entry ("field: message"), so a client can point at the list.
                errors.append("buckets: Total allocation (\(text)%) exceeds 100%")
            }
        }
        for issue in issues.issues where !issue.msg.contains("Total allocation") {
            let relative = ValidationIssue(type: issue.type, loc: Array(issue.loc.dropFirst()), msg: issue.msg)
            errors.append("\(relative.fieldPath): \(issue.msg)")
        }
        let perCohort = request?.abm.agentsPerCohort ?? config["abm"]?["agents_per_cohort"]?.numberValue.map { Int($0) } ?? 50
        let agents = perCohort * buckets.count
        if agents > 1000 {
            warnings.append("High agent count (\(agents)) may be slow. Consider using meta_agents granularity.")
        }
        if let horizon = config["token"]?["horizon_months"]?.numberValue, horizon > 120 {
            warnings.append("Very long horizon (\(PythonFormat.number(config["token"]!["horizon_months"]!)) months) may be slow.")
        }
        return Response.json(["valid": .bool(errors.isEmpty), "warnings": .strings(warnings), "errors": .strings(errors)])
    }
}

extension Duration {
    var asSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
