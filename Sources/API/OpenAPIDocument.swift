import Simulation

/// `/openapi.json`: the whole API (OpenAPI 3.0.3). A test checks that every registered route is documented
/// here and every documented route is registered.
enum OpenAPIDocument {
    // Schema helpers.
    static func ref(_ name: String) -> JSONValue { ["$ref": .string("#/components/schemas/\(name)")] }
    static func obj(_ props: [(String, JSONValue)], required: [String] = [], additional: Bool = true) -> JSONValue {
        var o: JSONObject = ["type": "object", "properties": .object(JSONObject(props.map { (key: $0.0, value: $0.1) }))]
        if !required.isEmpty { o["required"] = .strings(required) }
        if !additional { o["additionalProperties"] = false }
        return .object(o)
    }
    static func num(_ min: Double? = nil, _ max: Double? = nil, exclusiveMin: Bool = false) -> JSONValue {
        var o: JSONObject = ["type": "number"]
        if let min { o["minimum"] = .double(min) }
        if exclusiveMin { o["exclusiveMinimum"] = true }
        if let max { o["maximum"] = .double(max) }
        return .object(o)
    }
    static func int(_ min: Int? = nil, _ max: Int? = nil) -> JSONValue {
        var o: JSONObject = ["type": "integer"]
        if let min { o["minimum"] = .integer(min) }
        if let max { o["maximum"] = .integer(max) }
        return .object(o)
    }
    static let str: JSONValue = ["type": "string"]
    static let bool: JSONValue = ["type": "boolean"]
    static func arr(_ items: JSONValue, minItems: Int? = nil, maxItems: Int? = nil) -> JSONValue {
        var o: JSONObject = ["type": "array", "items": items]
        if let minItems { o["minItems"] = .integer(minItems) }
        if let maxItems { o["maxItems"] = .integer(maxItems) }
        return .object(o)
    }
    static func nullable(_ s: JSONValue) -> JSONValue {
        guard case .object(var o) = s else { return s }
        if o["$ref"] != nil { return ["allOf": [s], "nullable": true] }
        o["nullable"] = true
        return .object(o)
    }
    static func enumeration(_ values: [String]) -> JSONValue { ["type": "string", "enum": .strings(values)] }
    static let freeObject: JSONValue = ["type": "object", "additionalProperties": true]

    static func content(_ schema: JSONValue, type: String = "application/json") -> JSONValue {
        ["content": .object(JSONObject([(key: type, value: ["schema": schema] as JSONValue)]))]
    }
    static func response(_ description: String, _ schema: JSONValue? = nil, type: String = "application/json") -> JSONValue {
        var o: JSONObject = ["description": .string(description)]
        if let schema, case .object(let c) = content(schema, type: type) { o["content"] = c["content"] }
        return .object(o)
    }

    /// One operation. Error responses are added from `errors`.
    struct Operation {
        var method: String
        var path: String
        var summary: String
        var tag: String
        var body: JSONValue?
        var ok: JSONValue
        var okType = "application/json"
        var errors: [Int]
        var parameters: [JSONValue] = []
    }

    static let jobID: JSONValue = [
        "name": "job_id", "in": "path", "required": true,
        "schema": ["type": "string", "minLength": 1, "maxLength": 128],
    ]

    static let errorSchemas: [Int: (String, JSONValue)] = [
        400: ("Bad request", ref("DetailMessage")),
        404: ("Not found", ref("DetailMessage")),
        413: ("Request body too large", ref("RequestTooLarge")),
        422: ("Validation error: every problem, with its location", ref("HTTPValidationError")),
        429: ("Rate limited or queue full", ref("RateLimited")),
        503: ("Job queue unavailable or shutting down", ref("DetailMessage")),
    ]

    static func operations(prometheus: Bool) -> [Operation] {
        let post = [413, 422, 429]
        let job = [404, 429, 503]
        let health: [Operation] = [
            Operation(method: "get", path: "/health", summary: "Full health report (application/health+json; fail is 503)", tag: "health", ok: ref("HealthReport"), okType: "application/health+json", errors: [503]),
            Operation(method: "get", path: "/health/live", summary: "Liveness: the process and its event loops", tag: "health", ok: ref("HealthReport"), okType: "application/health+json", errors: [503]),
            Operation(method: "get", path: "/health/ready", summary: "Readiness: started, store writable, not draining, queue not full", tag: "health", ok: ref("HealthReport"), okType: "application/health+json", errors: [503]),
            Operation(method: "get", path: "/health/startup", summary: "Startup finished", tag: "health", ok: ref("HealthReport"), okType: "application/health+json", errors: [503]),
        ]
        let metrics: [Operation] = prometheus
            ? [Operation(method: "get", path: "/metrics", summary: "Prometheus metrics (text exposition format)", tag: "meta", ok: str, okType: "text/plain", errors: [])]
            : []
        return health + metrics + [
            Operation(method: "get", path: "/", summary: "API banner", tag: "meta", ok: ref("Banner"), errors: [429]),
            Operation(method: "get", path: "/openapi.json", summary: "This document", tag: "meta", ok: freeObject, errors: [429]),
            Operation(method: "get", path: "/docs", summary: "Human-readable API index", tag: "meta", ok: str, okType: "text/html", errors: [429]),
            Operation(method: "get", path: "/redoc", summary: "Human-readable API index", tag: "meta", ok: str, okType: "text/html", errors: [429]),
            Operation(method: "get", path: "/api/v1/health", summary: "Health with host metrics (60/minute)", tag: "health", ok: ref("HealthV1"), errors: [429]),
            Operation(method: "get", path: "/api/v1/health/live", summary: "Liveness", tag: "health", ok: ref("Liveness"), errors: []),
            Operation(method: "get", path: "/api/v1/alerts", summary: "Pending and firing alerts of the in-process rule evaluator (Prometheus's shape)", tag: "alerting", ok: ref("PrometheusAlerts"), errors: [404]),
            Operation(
                method: "get", path: "/api/v1/rules", summary: "Rule groups, rules and their alerts (Prometheus's shape)", tag: "alerting", ok: ref("PrometheusRules"), errors: [400, 404],
                parameters: [["name": "type", "in": "query", "required": false, "schema": enumeration(["alert", "record"])]]),
            Operation(method: "get", path: "/api/v1/health/ready", summary: "Readiness (503 when not ready)", tag: "health", ok: ref("Readiness"), errors: [503]),
            Operation(method: "options", path: "/api/v1/simulate", summary: "CORS preflight stub", tag: "v1", ok: ref("DetailMessage"), errors: [400]),
            Operation(method: "options", path: "/api/v1/config/validate", summary: "CORS preflight stub", tag: "v1", ok: ref("DetailMessage"), errors: [400]),
            Operation(method: "post", path: "/api/v1/simulate", summary: "v1 vesting simulation (tiers 1 to 3), 20/minute", tag: "v1", body: ref("V1SimulationRequest"), ok: ref("V1SimulationResponse"), errors: post),
            Operation(method: "post", path: "/api/v1/config/validate", summary: "v1 config checks on a raw object, 30/minute", tag: "v1", body: ref("V1ValidateRequest"), ok: ref("ValidateResponse"), errors: post),
            Operation(method: "post", path: "/api/v2/abm/simulate-sync", summary: "Run an ABM simulation and return its results", tag: "abm", body: ref("ABMSimulationRequest"), ok: ref("ABMSimulationResults"), errors: post),
            Operation(method: "post", path: "/api/v2/abm/simulate", summary: "Submit an ABM job (seeded requests are cached)", tag: "jobs", body: ref("ABMSimulationRequest"), ok: ref("JobSubmissionResponse"), errors: post + [503]),
            Operation(method: "get", path: "/api/v2/abm/jobs/{job_id}/status", summary: "Job status", tag: "jobs", ok: ref("JobStatusResponse"), errors: job, parameters: [jobID]),
            Operation(method: "get", path: "/api/v2/abm/jobs/{job_id}/results", summary: "Results of a completed ABM job", tag: "jobs", ok: ref("ABMSimulationResults"), errors: [400] + job, parameters: [jobID]),
            Operation(method: "get", path: "/api/v2/abm/jobs/{job_id}/stream", summary: "Progress as Server-Sent Events (resumable with Last-Event-ID)", tag: "jobs", ok: ref("ProgressEvent"), okType: "text/event-stream", errors: job, parameters: [jobID, ["name": "Last-Event-ID", "in": "header", "required": false, "description": "Events after this id are sent (negative: every event from the first); absent or not a number: the current state, then every change.", "schema": ["type": "integer"]]]),
            Operation(method: "delete", path: "/api/v2/abm/jobs/{job_id}", summary: "Cancel a queued or running job", tag: "jobs", ok: ref("Message"), errors: [400] + job, parameters: [jobID]),
            Operation(
                method: "get", path: "/api/v2/abm/jobs", summary: "A page of jobs in submission order (next page: next_cursor)", tag: "jobs",
                ok: ref("JobList"), errors: [422, 429, 503],
                parameters: [
                    ["name": "limit", "in": "query", "required": false, "description": "Jobs per page (default 100).", "schema": ["type": "integer", "minimum": 1, "maximum": 1000]],
                    ["name": "cursor", "in": "query", "required": false, "description": "The next_cursor of the previous page.", "schema": ["type": "string"]],
                ]),
            Operation(method: "get", path: "/api/v2/abm/queue/stats", summary: "Queue statistics", tag: "jobs", ok: ref("QueueStats"), errors: [429, 503]),
            Operation(method: "post", path: "/api/v2/abm/validate", summary: "Check an ABM config", tag: "abm", body: ref("ABMValidateRequest"), ok: ref("ValidateResponse"), errors: post),
            Operation(method: "post", path: "/api/v2/abm/monte-carlo/simulate", summary: "Submit a Monte Carlo job", tag: "jobs", body: ref("ABMSimulationRequest"), ok: ref("JobSubmissionResponse"), errors: [400, 503] + post),
            Operation(method: "get", path: "/api/v2/abm/monte-carlo/results/{job_id}", summary: "Monte Carlo results", tag: "jobs", ok: ref("MonteCarloResults"), errors: [400] + job, parameters: [jobID]),
        ]
    }

    static func document(prometheus: Bool = true) -> JSONValue {
        var paths = JSONObject()
        for op in operations(prometheus: prometheus) {
            var o: JSONObject = ["summary": .string(op.summary), "tags": [.string(op.tag)], "operationId": .string(operationID(op))]
            if !op.parameters.isEmpty { o["parameters"] = .array(op.parameters) }
            if let body = op.body {
                o["requestBody"] = ["required": true, "content": ["application/json": ["schema": body]]]
            }
            var responses = JSONObject([(key: "200", value: response("OK", op.ok, type: op.okType))])
            for code in op.errors.sorted() {
                var (text, schema) = errorSchemas[code]!
                if code == 503 && op.path.hasPrefix("/health") {
                    responses["503"] = response("Failing", ref("HealthReport"), type: "application/health+json")
                    continue
                }
                if code == 503 && op.path == "/api/v1/health/ready" { (text, schema) = ("Not ready", ref("Readiness")) }
                responses[String(code)] = response(text, code == 400 && op.method == "options" ? str : schema,
                                                   type: code == 400 && op.method == "options" ? "text/plain" : "application/json")
            }
            // Any documented path answers 405 (with Allow) to a method it does not have.
            responses["405"] = response("Method not allowed", ref("DetailMessage"))
            o["responses"] = .object(responses)
            var item = paths[op.path]?.objectValue ?? JSONObject()
            item[op.method] = .object(o)
            paths[op.path] = .object(item)
        }
        return [
            "openapi": "3.0.3",
            "info": [
                "title": "abm-service", "version": "1.0.0",
                "description": "Agent-based token-vesting simulations. Differences from the original service are listed in docs/compatibility.md.",
            ],
            "paths": .object(paths),
            "components": ["schemas": .object(OpenAPISchemas.all)],
        ]
    }

    static func operationID(_ op: Operation) -> String {
        let words = op.path.split { !$0.isLetter && !$0.isNumber }.map(String.init)
        return op.method + words.map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    /// The documented (method, path) pairs, for the route check.
    static func documentedRoutes(prometheus: Bool = true) -> [(String, String)] {
        operations(prometheus: prometheus).map { ($0.method.uppercased(), $0.path) }
    }
}
