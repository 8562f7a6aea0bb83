import Alerting
import Foundation
import Hummingbird
import NIOCore

/// `/api/v1/alerts` and `/api/v1/rules` of the in-process evaluator, in Prometheus's API shapes (so
/// Grafana, amtool-style scripts and `curl | jq` recipes written for Prometheus work unchanged). 404 when
/// the evaluator is disabled: the resource does not exist in that configuration, and it is not a server
/// error that should burn the error budget.
struct AlertRoutes {
    let alerting: AlertingService?

    func register(on router: Router<ABMRequestContext>) {
        let alerting = self.alerting
        router.get("/api/v1/alerts") { _, _ -> Response in
            guard let alerting else { throw Self.disabled }
            return try Self.json(alerting.alertsDocument())
        }
        router.get("/api/v1/rules") { request, _ -> Response in
            guard let alerting else { throw Self.disabled }
            let type = request.uri.queryParameters["type"].map(String.init)
            if let type, type != "alert", type != "record" {
                throw APIError.detail(.badRequest, "type must be alert or record")
            }
            return try Self.json(alerting.rulesDocument(type: type))
        }
    }

    static let disabled = APIError.detail(.notFound, "the alert evaluator is disabled (ABM_ALERTING_ENABLED=false)")

    static func json(_ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Response(
            status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }
}
