import Foundation
import Simulation
import Testing

/// Fixtures copied from the behavioural spec: golden responses (shape only) and benchmark requests.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func json(_ name: String) throws -> JSONValue {
        let data = try Data(contentsOf: directory.appendingPathComponent(name))
        return try JSONParser.parse(Array(data))
    }

    static var goldenNames: [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: directory.path))?.filter { $0.hasSuffix(".json") }.sorted()
            ?? []
    }
}

/// Decodes a v2 request from JSON text, failing the test with every issue when it is invalid.
func abmRequest(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> ABMRequest {
    switch ABMRequestDecoder.decode(bytes: Array(text.utf8)) {
    case .success(let r): return r
    case .failure(let f):
        Issue.record("invalid request: \(f.summary)", sourceLocation: sourceLocation)
        throw f
    }
}

func abmIssues(_ text: String) -> [ValidationIssue] {
    switch ABMRequestDecoder.decode(bytes: Array(text.utf8)) {
    case .success: return []
    case .failure(let f): return f.issues
    }
}

func run(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> ABMResult {
    try ABMSimulation.run(try abmRequest(text, sourceLocation: sourceLocation))
}

/// A minimal valid request with one bucket; `abm` and bucket fields are spliced in as JSON fragments.
func oneBucket(
    supply: Double = 1_000_000, horizon: Int = 12, bucket: String = "Team", allocation: Double = 100,
    tge: Double = 0, cliff: Int = 0, vesting: Int = 6, abm: String = #""agents_per_cohort": 10, "seed": 1"#
) -> String {
    """
    {"token": {"name": "T", "total_supply": \(supply), "start_date": "2026-01-01", "horizon_months": \(horizon)},
     "buckets": [{"bucket": "\(bucket)", "allocation": \(allocation), "tge_unlock_pct": \(tge),
                  "cliff_months": \(cliff), "vesting_months": \(vesting)}],
     "abm": {\(abm)}}
    """
}

func close(_ a: Double, _ b: Double, rel: Double = 1e-9) -> Bool {
    abs(a - b) <= rel * max(1, abs(a), abs(b))
}
