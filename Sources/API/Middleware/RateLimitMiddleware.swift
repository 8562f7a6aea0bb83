import HTTPTypes
import Hummingbird

/// One limiter for the whole API (D26), switched by `RATE_LIMIT_ENABLED`: every route counts against
/// `DEFAULT_RATE_LIMIT` per client address, and the original's three route limits are kept on top
/// (health 60/minute, v1 simulate 20/minute, v1 validate 30/minute). Probes and metrics are exempt.
/// Every counted response carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`; a 429
/// also carries `Retry-After`.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = ABMRequestContext
    let limiter: RateLimiter
    let defaultLimit: RateLimit

    static let routeLimits: [String: RateLimit] = [
        "GET /api/v1/health": RateLimit(count: 60, window: .minute),
        "POST /api/v1/simulate": RateLimit(count: 20, window: .minute),
        "POST /api/v1/config/validate": RateLimit(count: 30, window: .minute),
    ]

    static func isExempt(_ path: String) -> Bool {
        path == "/metrics" || path == "/health" || path.hasPrefix("/health/") || path == "/api/v1/health/live"
            || path == "/api/v1/health/ready"
    }

    /// Keys are the matched route's template, never the raw path: `//api/v1/simulate`, `/api//v1/simulate`
    /// and `/api/v1/simulate/` reach the same handler and count against the same limits. Both limits of a
    /// request are checked and charged together: a refused request charges neither.
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let route = MetricsMiddleware.routeLabel(context)
        let path = route == "unmatched" ? request.uri.path : route
        if Self.isExempt(path) || request.method == .options { return try await next(request, context) }
        let routeKey = "\(request.method.rawValue) \(path)"
        var checks: [(key: String, limit: RateLimit)] = []
        let specific = Self.routeLimits[routeKey]
        if let specific { checks.append(("\(context.clientAddress) \(routeKey)", specific)) }
        // The original's health limit stands alone; every other request also counts against the default.
        if specific == nil || path != "/api/v1/health" { checks.append((context.clientAddress, defaultLimit)) }
        let decisions = limiter.check(checks)
        return try await finish(Array(zip(checks.map(\.limit), decisions)), request, context, next)
    }

    private func finish(
        _ decisions: [(RateLimit, RateLimiter.Decision)], _ request: Request, _ context: Context,
        _ next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        // Report the tightest limit: the refused one, else the one with the fewest requests left.
        let binding = decisions.first { !$0.1.allowed } ?? decisions.min { $0.1.remaining < $1.1.remaining }!
        var headers: HTTPFields = [
            .rateLimitLimit: String(binding.1.limit), .rateLimitRemaining: String(binding.1.remaining),
            .rateLimitReset: String(binding.1.resetSeconds),
        ]
        if !binding.1.allowed {
            headers[.retryAfter] = String(binding.1.resetSeconds)
            context.logger.info("rate limited", metadata: ["client": "\(context.clientAddress)", "limit": "\(binding.0)"])
            throw APIError.rateLimited(binding.0, headers: headers)
        }
        var response = try await next(request, context)
        for f in headers { response.headers[f.name] = f.value }
        return response
    }
}

extension HTTPField.Name {
    static let rateLimitLimit = HTTPField.Name("RateLimit-Limit")!
    static let rateLimitRemaining = HTTPField.Name("RateLimit-Remaining")!
    static let rateLimitReset = HTTPField.Name("RateLimit-Reset")!
}
