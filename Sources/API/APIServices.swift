import Alerting
import Foundation
import HTTPTypes
import Hummingbird
import Jobs
import Logging
import Simulation
import Telemetry

/// What the routes need, built once in `buildApplication`.
struct APIServices: Sendable {
    let configuration: ServiceConfiguration
    /// Nil when the job store could not be set up; job routes then answer 503 (spec 3).
    let jobs: JobQueue?
    let syncWorkers: WorkerPool
    var workBudget: WorkBudget { WorkBudget(maxUnits: configuration.maxWorkUnits, maxResultBytes: configuration.maxResultBytes) }
    var sync: SyncRunner {
        SyncRunner(
            pool: syncWorkers, stallTimeout: .seconds(configuration.writeTimeoutSeconds),
            shutdownGrace: .milliseconds(configuration.shutdownTimeoutSeconds * 250))
    }
    let bodyReader: BodyReader
    let hostMetrics: HostMetrics
    let startedAt: ContinuousClock.Instant
    let telemetry: TelemetryBundle
    /// The in-process rule evaluator; nil when ABM_ALERTING_ENABLED=false.
    var alerting: AlertingService? = nil

    /// A JSON request body: a declared non-JSON content type or malformed JSON is a 422 in the original's shape.
    func jsonBody(_ request: Request) async throws -> JSONValue {
        let bytes = try await bodyReader.read(request)
        if let type = request.headers[.contentType]?.lowercased(), !type.contains("json") {
            let text = String(decoding: bytes.prefix(10_000), as: UTF8.self)
            throw APIError.validation(
                ValidationFailure([
                    ValidationIssue(
                        type: "model_attributes_type", loc: [],
                        msg: "Input should be a valid dictionary or object to extract fields from", input: .string(text))
                ]))
        }
        switch ABMRequestDecoder.parseBody(bytes) {
        case .success(let v): return v
        case .failure(let f): throw APIError.validation(f)
        }
    }

    /// The `config` object of a `{"config": {...}}` body, or the 422 the original gave (`issueType` is what a
    /// non-object `config` is reported as: `dict_type` for v1, `model_attributes_type` for v2).
    func configObject(_ body: JSONValue, issueType: String) throws -> JSONObject {
        guard case .object(let root) = body else {
            let issue =
                body == .null
                ? ValidationIssue(type: "missing", loc: [], msg: "Field required", input: .null)
                : ValidationIssue(
                    type: "model_attributes_type", loc: [], msg: "Input should be a valid dictionary or object to extract fields from",
                    input: body)
            throw APIError.validation(ValidationFailure([issue]))
        }
        guard let config = root["config"] else {
            throw APIError.validation(
                ValidationFailure([ValidationIssue(type: "missing", loc: [.key("config")], msg: "Field required", input: body)]))
        }
        guard case .object(let object) = config else {
            let msg =
                issueType == "dict_type"
                ? "Input should be a valid dictionary" : "Input should be a valid dictionary or object to extract fields from"
            throw APIError.validation(ValidationFailure([ValidationIssue(type: issueType, loc: [.key("config")], msg: msg, input: config)]))
        }
        return object
    }

    func queue() throws -> JobQueue {
        guard let jobs else { throw APIError.detail(.serviceUnavailable, "Job queue not initialized") }
        return jobs
    }
}

extension Parameters {
    /// The `job_id` path parameter; ids longer than any real id are not echoed back.
    var jobID: String {
        let raw = get("job_id") ?? ""
        return raw.count <= 64 ? raw : String(raw.prefix(64)) + "..."
    }
}

/// ISO-8601 UTC with microseconds and `+00:00`, as the original's job listing wrote timestamps.
enum Timestamp {
    static func iso(_ d: Date?) -> JSONValue {
        guard let d else { return .null }
        let t = d.timeIntervalSince1970
        let seconds = floor(t)
        let micros = Int(((t - seconds) * 1_000_000).rounded())
        var tm = tm()
        var secs = time_t(seconds) + time_t(micros / 1_000_000)
        gmtime_r(&secs, &tm)
        return .string(
            String(
                format: "%04d-%02d-%02dT%02d:%02d:%02d.%06d+00:00", Int(tm.tm_year) + 1900, Int(tm.tm_mon) + 1,
                Int(tm.tm_mday), Int(tm.tm_hour), Int(tm.tm_min), Int(tm.tm_sec), micros % 1_000_000))
    }
}
