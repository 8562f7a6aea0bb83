import HTTPTypes
import Hummingbird
import Logging

/// One log line per request: method, route template (never the raw path), status, duration, client.
/// Request bodies and headers are never logged.
struct AccessLogMiddleware: RouterMiddleware {
    typealias Context = ABMRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let clock = ContinuousClock()
        let start = clock.now
        let response = try await next(request, context)
        let elapsed = clock.now - start
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        let route = MetricsMiddleware.routeLabel(context)
        context.logger.log(
            level: response.status.code >= 500 ? .error : .info, "request completed",
            metadata: [
                "method": .string(request.method.rawValue), "route": .string(route),
                "status": .stringConvertible(response.status.code),
                "duration_ms": .string(String(format: "%.3f", ms)), "client": .string(context.clientAddress),
            ])
        return response
    }
}

import Foundation
