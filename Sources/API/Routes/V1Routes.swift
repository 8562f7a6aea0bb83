import Foundation
import Hummingbird
import Simulation

/// The v1 vesting simulator and its config check (spec 3.6, 3.7).
struct V1Routes {
    let services: APIServices

    func register(on router: Router<ABMRequestContext>) {
        router.post("/api/v1/simulate") { request, _ in
            let body = try await services.jsonBody(request)
            let config: V1Config
            switch V1ConfigDecoder.decode(body) {
            case .success(let c): config = c
            case .failure(let f): throw APIError.validation(f)
            }
            let report = V1Validator.validate(V1Engine.configObject(config))
            if !report.errors.isEmpty {
                throw APIError.detailObject(
                    .unprocessableContent,
                    ["status": "error", "error_type": "validation_error", "message": .string(report.errors.joined(separator: "; "))])
            }
            let clock = ContinuousClock()
            let start = clock.now
            let result = try await services.syncWorkers.run { V1Engine.run(config) }
            let elapsed = clock.now - start
            let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            return Response.json(result.responseJSON(executionTimeMs: ms))
        }
        router.post("/api/v1/config/validate") { request, _ in
            let body = try await services.jsonBody(request)
            guard case .object(let root) = body else {
                throw APIError.validation(ValidationFailure([Self.notAnObject(body, loc: [])]))
            }
            guard let config = root["config"] else {
                throw APIError.validation(
                    ValidationFailure([ValidationIssue(type: "missing", loc: [.key("config")], msg: "Field required", input: body)]))
            }
            guard case .object(let object) = config else {
                throw APIError.validation(
                    ValidationFailure([
                        ValidationIssue(
                            type: "dict_type", loc: [.key("config")], msg: "Input should be a valid dictionary", input: config)
                    ]))
            }
            return Response.json(V1Validator.validate(object).json)
        }
    }

    static func notAnObject(_ v: JSONValue, loc: [ValidationIssue.PathComponent]) -> ValidationIssue {
        v == .null
            ? ValidationIssue(type: "missing", loc: loc, msg: "Field required", input: .null)
            : ValidationIssue(
                type: "model_attributes_type", loc: loc,
                msg: "Input should be a valid dictionary or object to extract fields from", input: v)
    }
}
