import HTTPTypes
import Hummingbird
import Jobs
import Telemetry
import Tracing

/// A server span per request, following the OpenTelemetry HTTP conventions: named `METHOD /route/{template}`
/// (the method alone when no route matched), with `http.request.method`, `http.route`, `url.path`,
/// `url.scheme`, `network.protocol.version`, `client.address`, `user_agent.original` and
/// `http.response.status_code`. A 5xx sets the span's status to error; a 4xx does not (the server did its job).
///
/// Health probes and `/metrics` get no span (`ProbePaths`).
///
/// An incoming W3C `traceparent` (and `tracestate`) becomes the span's parent; a malformed one is dropped here,
/// before the tracer sees it, and the request starts a new trace. Every response carries the `traceparent` of
/// its span, so a client can quote it. The span ends once the body is written (streams included).
///
/// Not Hummingbird's `TracingMiddleware`: that one reads the process-wide tracer (this one is given its
/// tracer, so tests see their own spans), marks only thrown errors (the error mapping inside answers them as
/// responses, so a 500 would never be marked) and names spans without the method.
struct ServerSpanMiddleware: RouterMiddleware {
    typealias Context = ABMRequestContext
    let tracer: any Tracer
    static let traceparent = HTTPField.Name("traceparent")!
    static let tracestate = HTTPField.Name("tracestate")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if ProbePaths.contains(request.uri.path) { return try await next(request, context) }
        var parent = InstrumentationContext.current ?? .topLevel
        let incoming = TraceHeaders.sanitize(traceparent: request.headers[Self.traceparent], tracestate: request.headers[Self.tracestate])
        if let traceparent = incoming.traceparent,
            let remote = JobTrace.context(traceparent: traceparent, tracestate: incoming.tracestate, tracer: tracer)
        {
            parent = remote
        }
        let method = request.method.rawValue
        let span = tracer.startSpan(method, context: parent, ofKind: .server)
        let ending = SpanEnd(span)
        do {
            var response = try await InstrumentationContext.$current.withValue(span.context) { try await next(request, context) }
            let code = Int(response.status.code)
            Self.describe(span, request, context, method: method, status: code, errorType: String(code))
            if code >= 500 { span.setStatus(SpanStatus(code: .error, message: response.status.reasonPhrase)) }
            if let value = JobTrace.traceparent(of: span.context, tracer: tracer) { response.headers[Self.traceparent] = value }
            let body = response.body
            response.body = ResponseBody(contentLength: body.contentLength) { writer in
                defer { ending.end() }
                try await body.write(writer)
            }
            return response
        } catch {
            let code = Int((error as? any HTTPResponseError)?.status.code ?? 500)
            Self.describe(span, request, context, method: method, status: code, errorType: String(describing: type(of: error)))
            if code >= 500 {
                span.recordError(error)
                span.setStatus(SpanStatus(code: .error))
            }
            ending.end()
            throw error
        }
    }

    /// The span's name and attributes, in one update (one lock) once the route and status are known; body sizes
    /// are opt-in in the conventions and left out. `errorType` is recorded for a 5xx only.
    static func describe(_ span: any Span, _ request: Request, _ context: Context, method: String, status: Int, errorType: String) {
        let route = MetricsMiddleware.route(context)
        if let route { span.operationName = method + " " + route }
        span.updateAttributes { a in
            a["http.request.method"] = method
            a["url.path"] = request.uri.path
            a["url.scheme"] = "http"
            a["network.protocol.version"] = "1.1"
            a["client.address"] = context.clientAddress
            if let agent = request.headers[.userAgent] { a["user_agent.original"] = String(agent.prefix(256)) }
            if let route { a["http.route"] = route }
            a["http.response.status_code"] = status
            if status >= 500 { a["error.type"] = errorType }
        }
    }
}
