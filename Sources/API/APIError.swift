import HTTPTypes
import Hummingbird
import Jobs
import Simulation

/// Every failure a route can report, mapped to its status and body in one place (the edge).
public enum APIError: Error, Sendable {
    /// 422 with pydantic-style entries.
    case validation(ValidationFailure)
    /// Any status with `{"detail": "<message>"}`.
    case detail(HTTPResponse.Status, String, headers: HTTPFields = [:])
    /// Any status with `{"detail": {...}}`.
    case detailObject(HTTPResponse.Status, JSONValue)
    /// 413 with the original's top-level body.
    case payloadTooLarge(limit: Int)
    /// 429 with `{"error": ...}` and rate-limit headers.
    case rateLimited(RateLimit, headers: HTTPFields)
    /// A body that is not JSON at all, for routes that answer with a fixed shape.
    case raw(HTTPResponse.Status, JSONValue, headers: HTTPFields = [:])

    var status: HTTPResponse.Status {
        switch self {
        case .validation: return .unprocessableContent
        case .detail(let s, _, _), .detailObject(let s, _), .raw(let s, _, _): return s
        case .payloadTooLarge: return .contentTooLarge
        case .rateLimited: return .tooManyRequests
        }
    }

    func response() -> Response {
        switch self {
        case .validation(let f): return .json(f.json, status: .unprocessableContent)
        case .detail(let s, let message, let headers): return .json(["detail": .string(message)], status: s, headers: headers)
        case .detailObject(let s, let body): return .json(["detail": body], status: s)
        case .payloadTooLarge(let limit):
            return .json(
                [
                    "status": "error", "error_type": "request_too_large",
                    "message": .string("Request body too large. Maximum allowed size is \(limit) bytes."),
                ], status: .contentTooLarge)
        case .rateLimited(let limit, let headers):
            return .json(["error": .string("Rate limit exceeded: \(limit)")], status: .tooManyRequests, headers: headers)
        case .raw(let s, let body, let headers): return .json(body, status: s, headers: headers)
        }
    }

    /// The queue's errors at the edge.
    static func from(_ e: JobQueueError, monteCarlo: Bool = false) -> APIError {
        switch e {
        case .queueFull(let running, let queued, let maxQueued, let retry):
            return .detail(
                .tooManyRequests,
                "Job queue is full (\(running) running, \(queued) of \(maxQueued) queued). Try again later.",
                headers: [.retryAfter: String(retry)])
        case .clientQuotaFull(let queued, let maxPerClient, let retry):
            return .detail(
                .tooManyRequests,
                "Too many queued jobs from this client (\(queued) of \(maxPerClient) allowed). Wait for some to finish, then try again.",
                headers: [.retryAfter: String(retry)])
        case .insufficientStorage:
            return .detail(
                .serviceUnavailable, "The service is low on disk space and accepts no new jobs; try again later.",
                headers: [.retryAfter: "30"])
        case .notFound(let id): return .detail(.notFound, "Job \(id) not found")
        case .notCancellable(let id): return .detail(.badRequest, "Job \(id) not found or not cancellable")
        case .draining:
            return .detail(.serviceUnavailable, "Service is shutting down; submit again shortly.", headers: [.retryAfter: "5"])
        case .storeUnavailable:
            return .detail(.serviceUnavailable, "Job store unavailable; try again shortly.", headers: [.retryAfter: "5"])
        }
    }
}

extension Response {
    /// A JSON response written with the project's writer (schema key order, floats with a point).
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        json(bytes: JSONWriter.bytes(value), status: status, headers: headers)
    }

    static func json(bytes: [UInt8], status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var h = headers
        h[.contentType] = "application/json"
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func text(_ s: String, status: HTTPResponse.Status = .ok, contentType: String = "text/plain; charset=utf-8") -> Response {
        Response(status: status, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(string: s)))
    }
}

extension APIError {
    /// Synchronous work stopped by a shutdown: the client may retry against another instance or later.
    static let shuttingDown = APIError.detail(
        .serviceUnavailable, "The service is shutting down; the simulation was stopped. Try again shortly.",
        headers: [.retryAfter: "5", .connection: "close"])

    /// The client went away before its result was ready; nobody reads this answer (nginx's 499), and it
    /// is not a server error.
    static let clientClosedRequest = APIError.detail(
        HTTPResponse.Status(code: 499, reasonPhrase: "Client Closed Request"), "The client closed the connection; the simulation was stopped.")

    /// Finite inputs whose results do not fit a 64-bit float: a 422 in the validation shape, naming what
    /// to reduce, instead of a body with nulls where the contract promises numbers.
    static let overflow = APIError.validation(
        ValidationFailure([ValidationIssue(type: "value_error", loc: [], msg: SimulationError.overflowMessage)]))
}
