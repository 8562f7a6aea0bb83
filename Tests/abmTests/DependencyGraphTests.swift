import Foundation
import Testing
import TestSupport

/// The supply chain: every dependency of Package.swift is pinned to an exact version, the resolved graph holds
/// exactly those versions, every package in it is a released version (no branch, no bare revision) and none
/// is gRPC; `scripts/sbom` describes that same graph as CycloneDX.
@Suite struct DependencyGraphTests {
    static let root = SimulateCommandTests.root

    /// identity (lower-cased last path component of the URL, without .git) -> version, from Package.swift.
    static func manifestPins() throws -> [String: String] {
        let text = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
        let packageLines = text.split(separator: "\n").filter { $0.contains(".package(") }
        #expect(!packageLines.isEmpty)
        var pins: [String: String] = [:]
        for line in packageLines {
            // .package(url: "https://github.com/OWNER/NAME", exact: "X.Y.Z")
            let quoted = line.split(separator: "\"", omittingEmptySubsequences: false)
            #expect(line.contains("exact: \""), "not an exact version: \(line)")
            guard quoted.count >= 4, line.contains("exact: \"") else { continue }
            var identity = String(quoted[1].split(separator: "/").last ?? "").lowercased()
            if identity.hasSuffix(".git") { identity.removeLast(4) }
            pins[identity] = String(quoted[3])
        }
        return pins
    }

    struct Resolved: Decodable {
        struct Pin: Decodable {
            struct State: Decodable {
                let version: String?
                let revision: String
                let branch: String?
            }
            let identity: String
            let location: String
            let state: State
        }
        let pins: [Pin]
    }

    static func resolved() async throws -> Resolved {
        let file = root.appendingPathComponent("Package.resolved")
        if !FileManager.default.fileExists(atPath: file.path) {
            let (status, output) = try await offPool { try runProgram("/usr/bin/env", ["swift", "package", "resolve"], in: root) }
            #expect(status == 0, "\(output)")
        }
        return try JSONDecoder().decode(Resolved.self, from: Data(contentsOf: file))
    }

    @Test func theResolvedGraphHoldsExactlyThePinnedVersionsAndNoGRPC() async throws {
        let manifest = try Self.manifestPins()
        let resolved = try await Self.resolved()
        let versions = Dictionary(uniqueKeysWithValues: resolved.pins.map { ($0.identity, $0.state.version) })
        for (identity, version) in manifest {
            #expect(versions[identity] == version, "\(identity): Package.swift says \(version), resolved \(String(describing: versions[identity]))")
        }
        for pin in resolved.pins {
            #expect(pin.state.version != nil && pin.state.branch == nil, "\(pin.identity) is not pinned to a released version")
            #expect(!pin.identity.contains("grpc") && !pin.location.lowercased().contains("grpc"), "gRPC in the graph: \(pin.identity)")
            #expect(pin.state.revision.count == 40)
        }
    }

    /// swift-otel is built with its OTLP/HTTP exporter only: its default traits would add the gRPC exporter.
    @Test func swiftOTelIsBuiltWithTheHTTPExporterOnly() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent("Package.swift"), encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.contains("github.com/swift-otel/swift-otel\"") })
        #expect(line.contains(#"traits: ["OTLPHTTP"]"#), "\(line)")
        #expect(text.contains("swift-tools-version: 6.2"), "package traits need swift-tools-version 6.1 or later")
    }

    @Test func theSBOMListsTheWholeResolvedGraph() async throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("sbom-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: out) }
        let script = Self.root.appendingPathComponent("scripts/sbom").path
        let (status, output) = try await offPool { try runProgram("/usr/bin/python3", [script, "-o", out.path], in: Self.root) }
        #expect(status == 0, "\(output)")
        let bom = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: out)) as? [String: Any])
        #expect(bom["bomFormat"] as? String == "CycloneDX" && bom["specVersion"] as? String == "1.5")
        let components = try #require(bom["components"] as? [[String: Any]])
        let resolved = try await Self.resolved()
        #expect(components.count == resolved.pins.count)
        for pin in resolved.pins {
            let c = components.first { $0["name"] as? String == pin.identity }
            #expect(c?["version"] as? String == pin.state.version, "\(pin.identity) in the SBOM")
            #expect((c?["purl"] as? String)?.hasPrefix("pkg:swift/github.com/") == true && (c?["purl"] as? String)?.hasSuffix("@\(pin.state.version ?? "")") == true)
            let properties = c?["properties"] as? [[String: String]] ?? []
            #expect(properties.contains { $0["name"] == "swiftpm:revision" && $0["value"] == pin.state.revision })
        }
        // The service depends on exactly the packages of Package.swift.
        let dependencies = try #require(bom["dependencies"] as? [[String: Any]])
        let service = try #require(dependencies.first { ($0["ref"] as? String)?.hasPrefix("pkg:swift/abm-service@") == true })
        #expect((service["dependsOn"] as? [String])?.count == (try Self.manifestPins()).count)
    }
}
