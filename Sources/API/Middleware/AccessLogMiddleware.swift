import HTTPTypes
import Hummingbird
import Logging
import Telemetry

/// One log line per request: method, route template (never the raw path), status, duration, bytes in and
/// out (when known), request id (from the logger) and client. Request bodies and headers are never logged.
/// Health probes and `/metrics` are logged at debug unless they fail with a 5xx (`ProbePaths`).
/// Every 5xx is also an error event (`ErrorEvents`: a structured line with type, message and fingerprint, and a
/// count in `abm_errors_total`), whether or not metrics are exported.
struct AccessLogMiddleware: RouterMiddleware {
    typealias Context = ABMRequestContext
    let errors: ErrorEvents

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let clock = ContinuousClock()
        let start = clock.now
        var response = try await next(request, context)
        // The error mapping's note never leaves the process.
        let errorType = response.headers[ErrorMiddleware.errorTypeHeader]
        let errorMessage = response.headers[ErrorMiddleware.errorMessageHeader]
        if errorType != nil || errorMessage != nil {
            response.headers[ErrorMiddleware.errorTypeHeader] = nil
            response.headers[ErrorMiddleware.errorMessageHeader] = nil
        }
        let code = response.status.code
        // Probes and scrapes log at debug unless they fail: at INFO they would be most of the log.
        let level: Logger.Level = code >= 500 ? .error : ProbePaths.contains(request.uri.path) ? .debug : .info
        let route = MetricsMiddleware.routeLabel(context)
        if code >= 500 {
            // The error event is counted whatever the log level says.
            let type = errorType ?? "HTTP\(code)"
            errors.record(
                source: "http", type: type, message: errorMessage ?? "\(code) \(response.status.reasonPhrase) at \(route)",
                logger: context.logger, metadata: ["route": .string(route), "status": .stringConvertible(Int(code))])
        }
        if level < context.logger.logLevel { return response }
        let elapsed = clock.now - start
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        var metadata: Logger.Metadata = [
            "method": .string(request.method.rawValue), "route": .string(route),
            "status": .stringConvertible(Int(response.status.code)), "duration_ms": .stringConvertible((ms * 1000).rounded() / 1000),
            "client": .string(context.clientAddress),
        ]
        if let bytesIn = request.headers[.contentLength].flatMap({ Int($0) }) { metadata["bytes_in"] = .stringConvertible(bytesIn) }
        if let bytesOut = response.body.contentLength { metadata["bytes_out"] = .stringConvertible(bytesOut) }
        context.logger.log(level: level, "request completed", metadata: metadata)
        return response
    }
}

import Foundation
