import CoreMetrics
import Foundation
import HTTPTypes
import Hummingbird
import Jobs
import Synchronization


/// HTTP metrics through swift-metrics: requests by method, route template and status; duration; in-flight;
/// request and response sizes. Route labels are templates, never raw paths. (Error events are the access
/// log's.)
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = ABMRequestContext
    let factory: any MetricsFactory
    let inFlight: Meter
    let handles: HandleCache

    init(factory: any MetricsFactory) {
        self.factory = factory
        self.inFlight = Meter(label: "abm_http_requests_in_flight", factory: factory)
        self.handles = HandleCache(factory: factory)
        // The request families exist from the first scrape (rules and runbooks name them): the scrape
        // route's own series, at zero until the first scrape has been answered.
        handles.get(method: "GET", route: "/metrics", status: 200).0.increment(by: 0)
    }

    /// Metric handles per (method, route) and per status, made once: creating them goes through the
    /// registry's lock and label hashing, which would otherwise cost more than the request itself.
    final class HandleCache: Sendable {
        struct Route {
            let duration: CoreMetrics.Timer
            let requestSize: Recorder
            let responseSize: Recorder
            var counters: [Int: Counter] = [:]
        }
        let factory: any MetricsFactory
        private let routes = Mutex<[String: Route]>([:])

        init(factory: any MetricsFactory) { self.factory = factory }

        func get(method: String, route: String, status: Int) -> (Counter, CoreMetrics.Timer, Recorder, Recorder) {
            let key = method + " " + route
            return routes.withLock { map in
                var r = map[key] ?? Route(
                    duration: CoreMetrics.Timer(label: "abm_http_request_duration_seconds", dimensions: [("method", method), ("route", route)], factory: factory),
                    requestSize: Recorder(label: "abm_http_request_size_bytes", dimensions: [("method", method), ("route", route)], factory: factory),
                    responseSize: Recorder(label: "abm_http_response_size_bytes", dimensions: [("method", method), ("route", route)], factory: factory))
                let counter: Counter
                if let c = r.counters[status] {
                    counter = c
                } else {
                    counter = Counter(
                        label: "abm_http_requests_total", dimensions: [("method", method), ("route", route), ("status", String(status))], factory: factory)
                    r.counters[status] = counter
                    map[key] = r
                }
                if map[key] == nil { map[key] = r }
                return (counter, r.duration, r.requestSize, r.responseSize)
            }
        }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        inFlight.increment()
        defer { inFlight.decrement() }
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let route = Self.routeLabel(context)
        let method = request.method.rawValue
        let (counter, duration, requestSize, responseSize) = handles.get(method: method, route: route, status: Int(response.status.code))
        counter.increment()
        let elapsed = ContinuousClock.now - start
        duration.recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        if let length = request.headers[.contentLength].flatMap({ Int($0) }) { requestSize.record(length) }
        if let length = response.body.contentLength { responseSize.record(length) }
        return response
    }

    /// The route template of the request, or `unmatched` when no route matched (bounded label values).
    static func routeLabel(_ context: ABMRequestContext) -> String { route(context) ?? "unmatched" }

    /// The route template of the request, or nil when no route matched (Hummingbird then names the endpoint
    /// "NotFound", without a leading slash).
    static func route(_ context: ABMRequestContext) -> String? {
        guard let path = context.endpointPath, path.hasPrefix("/") else { return nil }
        return template(path)
    }

    /// Hummingbird writes parameters as `{job_id}` already; `:job_id` forms are normalised the same way.
    static func template(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }
            .joined(separator: "/")
    }
}
