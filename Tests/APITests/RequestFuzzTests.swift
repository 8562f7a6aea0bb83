import Foundation
import HTTPTypes
import HummingbirdTesting
import Simulation
import Testing

@testable import API

/// Random and mutated request bodies (from the spec's benchmark requests and the examples): every answer is
/// a 2xx or a 4xx with the documented error shape, never a 5xx and never a crash.
@Suite struct RequestFuzzTests {
    static let seeds: [String] = {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("SimulationTests/Fixtures/requests")
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted().compactMap {
            try? String(contentsOf: dir.appendingPathComponent($0), encoding: .utf8)
        }
    }()

    /// Mutations of a JSON text: byte flips, truncation, duplication, deletion, and value swaps.
    static func mutate(_ text: String, _ rng: inout SplitMix64) -> String {
        var bytes = Array(text.utf8)
        let replacements = ["null", "-1", "1e400", "\"x\"", "[]", "{}", "true", "NaN", "0.5", "99999999999999999999", "\"\""]
        switch Int.random(in: 0..<6, using: &rng) {
        case 0 where !bytes.isEmpty:
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0x20...0x7E, using: &rng)
            }
        case 1 where !bytes.isEmpty:
            bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &rng)))
        case 2 where bytes.count > 2:
            let start = Int.random(in: 0..<bytes.count - 1, using: &rng)
            let end = min(bytes.count, start + Int.random(in: 1...40, using: &rng))
            bytes.removeSubrange(start..<end)
        case 3:
            // Replace a number or a string value after a colon.
            if let v = try? JSONParser.parse(bytes), case .object = v {
                var s = text
                let colons = s.indices.filter { s[$0] == ":" }
                if let c = colons.randomElement(using: &rng) {
                    let after = s.index(after: c)
                    let end = s[after...].firstIndex { $0 == "," || $0 == "}" || $0 == "]" } ?? s.endIndex
                    s.replaceSubrange(after..<end, with: " " + replacements.randomElement(using: &rng)!)
                }
                return s
            }
        case 4:
            return String(repeating: "[", count: Int.random(in: 1...3000, using: &rng))
        default:
            let start = Int.random(in: 0..<max(1, bytes.count), using: &rng)
            bytes.insert(contentsOf: Array(bytes[start..<min(bytes.count, start + 30)]), at: start)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func decodersNeverCrashAndReportWithPaths() throws {
        #expect(Self.seeds.count == 4)
        var rng = SplitMix64(seed: 20261127)
        var accepted = 0
        var rejected = 0
        for i in 0..<3000 {
            let text = Self.mutate(Self.seeds[i % Self.seeds.count], &rng)
            switch ABMRequestDecoder.decode(bytes: Array(text.utf8)) {
            case .success(let r):
                accepted += 1
                #expect(r.buckets.count >= 1 && r.token.horizonMonths >= 1)
            case .failure(let f):
                rejected += 1
                #expect(!f.issues.isEmpty)
                for issue in f.issues {
                    #expect(!issue.type.isEmpty && !issue.msg.isEmpty)
                    #expect(issue.json()["loc"]?.arrayValue?.first == "body")
                }
            }
            _ = V1ConfigDecoder.decode(bytes: Array(("{\"config\": " + text + "}").utf8))
        }
        // The mutations reach both sides: some bodies stay valid, most do not.
        #expect(accepted > 50 && rejected > 1000, "accepted \(accepted), rejected \(rejected)")
    }

    @Test func routesAnswerMutatedBodiesWith4xxShapes() async throws {
        let seeds = Self.seeds
        try await withApp({ $0.rateLimitEnabled = false }) { client in
            var rng = SplitMix64(seed: 7)
            for i in 0..<400 {
                let body = Self.mutate(seeds[i % seeds.count], &rng)
                let path = ["/api/v2/abm/simulate-sync", "/api/v2/abm/validate", "/api/v1/simulate", "/api/v2/abm/monte-carlo/simulate"][i % 4]
                let r = try await client.call(.post, path, json: path.hasSuffix("validate") ? "{\"config\": \(body)}" : body)
                #expect(r.status.code < 500, "\(path) -> \(r.status): \(body.prefix(120))")
                if r.status == .unprocessableContent {
                    // The documented 422 shapes: a list of issues, or an object detail (v1 validation_error).
                    let detail = r.json["detail"]
                    #expect(detail?.arrayValue != nil || detail?.objectValue != nil, "\(r.body.prefix(200))")
                } else if r.status.code >= 400 {
                    #expect(r.json["detail"] != nil || r.json["error"] != nil || r.json["status"] != nil, "\(r.body.prefix(200))")
                }
            }
        }
    }
}
