import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Telemetry

/// `/metrics` and the health endpoints: `/health` (the full report, `application/health+json`),
/// `/health/live`, `/health/ready` and `/health/startup`. Warn answers 200, fail 503; never cached.
struct TelemetryRoutes {
    let services: APIServices

    func register(on router: Router<ABMRequestContext>) {
        let t = services.telemetry
        if services.configuration.prometheusEnabled {
            router.get("/metrics") { _, _ in
                let text = await t.exporter.scrape()
                return Response(
                    status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(string: text)))
            }
        }
        router.get("/health") { request, _ in
            Self.respond(await t.health.report(), verbose: request.uri.queryParameters["verbose"] != nil)
        }
        router.get("/health/live") { request, _ in
            Self.respond(await t.health.report(.live), verbose: request.uri.queryParameters["verbose"] != nil)
        }
        router.get("/health/ready") { request, _ in
            Self.respond(await t.health.report(.ready), verbose: request.uri.queryParameters["verbose"] != nil)
        }
        router.get("/health/startup") { request, _ in
            Self.respond(await t.health.report(.startup), verbose: request.uri.queryParameters["verbose"] != nil)
        }
    }

    static func respond(_ report: HealthReport, verbose: Bool) -> Response {
        Response(
            status: report.status == .fail ? .serviceUnavailable : .ok,
            headers: [.contentType: "application/health+json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: report.data(verbose: verbose))))
    }
}
