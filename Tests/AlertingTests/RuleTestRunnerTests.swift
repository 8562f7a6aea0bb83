import Foundation
import Testing
import TestSupport

@testable import Alerting

/// `abm rules test` and `promtool test rules` must reach the same verdict on every test file in
/// alerts/tests/, and on broken copies of them (a changed expectation must fail in both).
@Suite struct RuleTestRunnerTests {
    static let alerts = RuleFileTests.root.appendingPathComponent("alerts")

    static var testFiles: [URL] {
        let dir = alerts.appendingPathComponent("tests")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".test.yml") }.sorted().map { dir.appendingPathComponent($0) }
    }

    static func promtool(_ file: String) throws -> Bool { try runProgram("/usr/bin/promtool", ["test", "rules", file]).status == 0 }

    @Test func expandingNotation() throws {
        #expect(try RuleTestRunner.expandValues("1+2x3 _ -1-1x2 5x1 _x2 stale 1e3") .map { $0.map { Sample.isStale($0) ? -999 : $0 } } == [
            1, 3, 5, 7, nil, -1, -2, -3, 5, 5, nil, nil, -999, 1000,
        ])
        #expect(throws: (any Error).self) { _ = try RuleTestRunner.expandValues("1+x") }
    }

    @Test func theShippedTestFilesPassInBoth() throws {
        #expect(Self.testFiles.count >= 2)
        for f in Self.testFiles {
            let ours = RuleTestRunner.run(file: f.path)
            #expect(ours.passed, "\(ours.report)")
            #expect(try Self.promtool(f.path), "promtool fails \(f.lastPathComponent)")
        }
    }

    /// Mutations of the shipped files: each must fail in both evaluators, or pass in both.
    @Test func verdictsAgreeOnBrokenCopies() throws {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("rules-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        for name in ["abm.rules.yml", "tests/promql-subset.rules.yml"] {
            try FileManager.default.copyItem(at: Self.alerts.appendingPathComponent(name), to: tmp.appendingPathComponent((name as NSString).lastPathComponent))
        }
        let mutations: [(String, String, String)] = [
            ("abm.rules.test.yml", "severity: critical", "severity: page"),
            ("abm.rules.test.yml", "eval_time: 10m", "eval_time: 1m"),
            ("abm.rules.test.yml", "20% of the jobs", "19% of the jobs"),
            ("abm.rules.test.yml", "'0+60x120'", "'0+1x120'"),
            ("promql-subset.test.yml", "value: 18.75", "value: 18.7"),
            ("promql-subset.test.yml", "value: 512", "value: 64"),
            ("promql-subset.test.yml", "value: 0.1}]", "value: 0.10000001}]"),
            ("promql-subset.test.yml", "level: \"40\"", "level: \"40.0\""),
            ("promql-subset.test.yml", "eval_time: 12m", "eval_time: 10m"),
            ("promql-subset.test.yml", "'{instance=\"h1\"}', value: 4}", "'{instance=\"h2\"}', value: 4}"),
            ("promql-subset.test.yml", "gauge is 40, 40B, 40s", "gauge is 40, 40B, 40.0s"),
        ]
        var compared = 0
        for (i, (file, from, to)) in mutations.enumerated() {
            var text = try String(contentsOf: Self.alerts.appendingPathComponent("tests/\(file)"), encoding: .utf8)
            #expect(text.contains(from), "mutation \(i) does not apply")
            text = text.replacingOccurrences(of: "../abm.rules.yml", with: "abm.rules.yml")
            if let r = text.range(of: from) { text.replaceSubrange(r, with: to) }
            let path = tmp.appendingPathComponent("m\(i).test.yml").path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let ours = RuleTestRunner.run(file: path).passed
            let theirs = try Self.promtool(path)
            #expect(ours == theirs, "mutation \(i) (\(from) -> \(to)): abm \(ours), promtool \(theirs)")
            #expect(!theirs, "mutation \(i) should break the test")
            compared += 1
        }
        #expect(compared == mutations.count)
    }
}
