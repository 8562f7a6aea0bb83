import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jobs
import Simulation
import Telemetry
import Testing

@testable import API

@Suite struct OpenAPITests {
    /// Every registered route is documented, and every documented route is registered.
    @Test func documentMatchesTheRouter() throws {
        let services = APIServices(
            configuration: ServiceConfiguration(), jobs: nil, syncWorkers: WorkerPool(width: 1), bodyReader: BodyReader(limit: 1024),
            hostMetrics: HostMetrics(), startedAt: .now, telemetry: TelemetryBundle(version: "test"))
        let router = buildRouter(services: services)
        func normalise(_ path: String) -> String {
            path.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
        }
        let registered = Set(router.routes.map { "\($0.method.rawValue) /\(normalise($0.path.description))" })
        let documented = Set(OpenAPIDocument.documentedRoutes().map { "\($0.0) /\(normalise($0.1))" })
        #expect(registered == documented, "undocumented: \(registered.subtracting(documented)); not registered: \(documented.subtracting(registered))")
        #expect(registered.count >= 21)
    }

    @Test func servedDocumentIsValidJSONWithEveryComponent() async throws {
        try await withApp { client in
            let r = try await client.call(.get, "/openapi.json")
            #expect(r.status == .ok)
            let doc = r.json
            #expect(doc["openapi"] == "3.0.3")
            let schemas = try #require(doc["components"]?["schemas"]?.objectValue)
            // Every $ref points at a defined schema.
            var refs: [String] = []
            func walk(_ v: JSONValue) {
                switch v {
                case .object(let o):
                    if case .string(let ref)? = o["$ref"] { refs.append(String(ref.split(separator: "/").last!)) }
                    for e in o.entries { walk(e.value) }
                case .array(let a): a.forEach(walk)
                default: break
                }
            }
            walk(doc)
            #expect(!refs.isEmpty)
            #expect(refs.allSatisfy { schemas[$0] != nil })
            let docs = try await client.call(.get, "/docs")
            #expect(docs.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(docs.body.contains("/api/v2/abm/simulate-sync"))
        }
    }

    /// A sync response has every key the document requires of `ABMSimulationResults`.
    @Test func responsesCarryTheDocumentedRequiredKeys() async throws {
        try await withApp { client in
            let doc = try await client.call(.get, "/openapi.json").json
            let schema = try #require(doc["components"]?["schemas"]?["ABMSimulationResults"])
            let required = schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let body = try await client.call(.post, "/api/v2/abm/simulate-sync", json: abmBody()).json
            #expect(!required.isEmpty)
            #expect(required.allSatisfy { body[$0] != nil })
        }
    }
}
