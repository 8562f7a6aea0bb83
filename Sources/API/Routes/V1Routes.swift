import Foundation
import Hummingbird
import Jobs
import Simulation

/// The v1 vesting simulator and its config check (spec 3.6, 3.7).
struct V1Routes {
    let services: APIServices

    func register(on router: Router<ABMRequestContext>) {
        router.post("/api/v1/simulate") { request, context in
            let body = try await services.jsonBody(request)
            let config: V1Config
            switch V1ConfigDecoder.decode(body) {
            case .success(let c): config = c
            case .failure(let f): throw APIError.validation(f)
            }
            try services.workBudget.check(config)
            let report = V1Validator.validate(V1Engine.configObject(config))
            if !report.errors.isEmpty {
                throw APIError.detailObject(
                    .unprocessableContent,
                    ["status": "error", "error_type": "validation_error", "message": .string(report.errors.joined(separator: "; "))])
            }
            return try await services.sync.respond(context) { isCancelled in
                let clock = ContinuousClock()
                let start = clock.now
                let result = try V1Engine.run(config, isCancelled: isCancelled)
                let elapsed = clock.now - start
                let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
                guard result.isFinite else { throw SimulationError.overflow }
                // v1 counts bucket-months (times trials), its unit of work.
                SimulationMetrics.record(
                    engine: "v1", agentMonths: WorkBudget.units(config), seconds: ms / 1000, factory: services.telemetry.metricsFactory)
                return result.responseStream(executionTimeMs: ms)
            }
        }
        router.post("/api/v1/config/validate") { request, _ in
            let object = try services.configObject(try await services.jsonBody(request), issueType: "dict_type")
            return Response.json(V1Validator.validate(object).json)
        }
    }
}
