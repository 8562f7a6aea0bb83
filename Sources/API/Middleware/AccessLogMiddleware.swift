import HTTPTypes
import Hummingbird
import Logging

/// One log line per request: method, route template (never the raw path), status, duration, bytes in and
/// out (when known), request id (from the logger) and client. Request bodies and headers are never logged.
struct AccessLogMiddleware: RouterMiddleware {
    typealias Context = ABMRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let clock = ContinuousClock()
        let start = clock.now
        var response = try await next(request, context)
        // The error mapping's note to the metrics middleware never leaves the process, metrics on or off.
        response.headers[ErrorMiddleware.errorTypeHeader] = nil
        let elapsed = clock.now - start
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        let route = MetricsMiddleware.routeLabel(context)
        var metadata: Logger.Metadata = [
            "method": .string(request.method.rawValue), "route": .string(route),
            "status": .stringConvertible(Int(response.status.code)), "duration_ms": .stringConvertible((ms * 1000).rounded() / 1000),
            "client": .string(context.clientAddress),
        ]
        if let bytesIn = request.headers[.contentLength].flatMap({ Int($0) }) { metadata["bytes_in"] = .stringConvertible(bytesIn) }
        if let bytesOut = response.body.contentLength { metadata["bytes_out"] = .stringConvertible(bytesOut) }
        context.logger.log(level: response.status.code >= 500 ? .error : .info, "request completed", metadata: metadata)
        return response
    }
}

import Foundation
