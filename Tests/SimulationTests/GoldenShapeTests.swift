import Simulation
import Testing

/// Responses keep the original's shape: for each captured request, our response has the same keys, in the
/// same order and nesting, with the same JSON types (null stands for an absent optional). Values are not
/// compared: the golden files carry defects D1 to D3.
@Suite struct GoldenShapeTests {
    /// Top-level keys this implementation adds to ABM results (documented in docs/compatibility.md).
    static let abmAdditions = ["seed", "dynamics_metrics"]

    enum Kind: Equatable { case null, bool, int, float, string, array, object }

    static func kind(_ v: JSONValue) -> Kind {
        switch v {
        case .null: return .null
        case .bool: return .bool
        case .int: return .int
        case .double: return .float
        case .string: return .string
        case .array: return .array
        case .object: return .object
        }
    }

    /// Differences between two documents' shapes, as readable paths.
    static func shapeDifferences(_ ours: JSONValue, _ golden: JSONValue, path: String = "$", ignoring: [String] = []) -> [String] {
        switch (ours, golden) {
        case (.object(let a), .object(let b)):
            let keys = a.keys.filter { !ignoring.contains($0) }
            guard keys == b.keys else { return ["\(path): keys \(keys) != golden \(b.keys)"] }
            return keys.flatMap { shapeDifferences(a[$0]!, b[$0]!, path: "\(path).\($0)") }
        case (.array(let a), .array(let b)):
            guard let x = a.first, let y = b.first else { return [] }
            return shapeDifferences(x, y, path: "\(path)[0]")
        case (_, .null), (.null, _):
            return []
        default:
            return kind(ours) == kind(golden) ? [] : ["\(path): \(kind(ours)) != golden \(kind(golden))"]
        }
    }

    static var goldenFiles: [String] { Fixtures.goldenNames }

    @Test(arguments: goldenFiles)
    func responseHasTheGoldenShape(file: String) throws {
        let golden = try Fixtures.json(file)
        let endpoint = try #require(golden["endpoint"]?.stringValue)
        let request = try #require(golden["request"])
        let expected = try #require(golden["response"])
        let ours: JSONValue
        var ignoring: [String] = []
        switch endpoint {
        case "POST /api/v2/abm/simulate-sync":
            let req = try ABMRequestDecoder.decode(request).get()
            ours = try ABMSimulation.run(req).json()
            ignoring = Self.abmAdditions
            #expect(ours.objectValue?.keys.suffix(2) == ArraySlice(Self.abmAdditions))
        case "POST /api/v1/simulate":
            let config = try V1ConfigDecoder.decode(request).get()
            ours = try V1Engine.run(config).responseJSON(executionTimeMs: 1)
        default:
            Issue.record("unexpected endpoint \(endpoint)")
            return
        }
        #expect(Self.shapeDifferences(ours, expected, ignoring: ignoring) == [])
        // Lengths that follow from the request are the same too.
        if let g = expected["global_metrics"]?.arrayValue ?? expected["data"]?["global_metrics"]?.arrayValue {
            #expect((ours["global_metrics"] ?? ours["data"]?["global_metrics"])?.arrayValue?.count == g.count)
        }
    }

    @Test func shapeComparisonDetectsDifferences() {
        #expect(Self.goldenFiles.count == 8)
        #expect(Self.shapeDifferences(["a": 1, "b": 2.0], ["a": 1, "b": 2.0]) == [])
        #expect(!Self.shapeDifferences(["b": 1, "a": 2], ["a": 1, "b": 2]).isEmpty)
        #expect(!Self.shapeDifferences(["a": 1], ["a": 1.0]).isEmpty)
        #expect(!Self.shapeDifferences(["a": [["x": 1]]], ["a": [["y": 1]]]).isEmpty)
        #expect(Self.shapeDifferences(["a": nil], ["a": 1.0]) == [])
    }
}
