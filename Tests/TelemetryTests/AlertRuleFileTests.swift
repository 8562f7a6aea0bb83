import Foundation
import Testing
import TestSupport

@testable import Telemetry

/// alerts/ and runbooks/: valid for promtool, unit-tested, one complete runbook per alert, and every metric
/// the rules read exists.
@Suite struct AlertRuleFileTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var rules: String { (try? String(contentsOf: root.appendingPathComponent("alerts/abm.rules.yml"), encoding: .utf8)) ?? "" }
    static var promtool: String? { ["/usr/bin/promtool", "/usr/local/bin/promtool"].first { FileManager.default.isExecutableFile(atPath: $0) } }

    static func run(_ args: [String]) throws -> (Int32, String) { try runProgram(promtool!, args, in: root) }

    static var alertNames: [String] {
        rules.split(separator: "\n").compactMap { line in
            let t = line.trimmingCharacters(in: .whitespaces)
            return t.hasPrefix("- alert: ") ? String(t.dropFirst("- alert: ".count)) : nil
        }
    }

    @Test func promtoolChecksAndTestsTheRules() throws {
        guard Self.promtool != nil else {
            Issue.record("promtool is not installed (scripts/bootstrap installs Debian's prometheus package)")
            return
        }
        let check = try Self.run(["check", "rules", "alerts/abm.rules.yml"])
        #expect(check.0 == 0, "\(check.1)")
        let tests = try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("alerts/tests").path)
            .filter { $0.hasSuffix(".test.yml") }.map { "alerts/tests/\($0)" }
        #expect(!tests.isEmpty)
        let test = try Self.run(["test", "rules"] + tests)
        #expect(test.0 == 0, "\(test.1)")
    }

    @Test func everyAlertHasItsLabelsAnnotationsAndRunbook() throws {
        let names = Self.alertNames
        #expect(names.count >= 11)
        for required in ["AbmErrorBudgetBurnFast", "AbmErrorBudgetBurnSlow", "AbmLatencyP95High", "AbmJobQueueBacklog", "AbmJobQueueFull",
                         "AbmMemoryHigh", "AbmJobFailureRatioHigh", "AbmLogLinesDropped", "AbmWatchdogPingsSkipped", "AbmTargetDown", "AbmHeartbeat"] {
            #expect(names.contains(required), "missing alert \(required)")
        }
        let blocks = Self.rules.components(separatedBy: "- alert: ").dropFirst()
        for block in blocks {
            let name = String(block.prefix { !$0.isWhitespace })
            for key in ["severity:", "summary:", "description:", "runbook_url:"] { #expect(block.contains(key), "\(name) lacks \(key)") }
            #expect(block.contains("runbook_url: \"runbooks/\(name).md\""), "\(name) runbook_url")
            #expect(block.contains("$value") || block.contains("$labels") || name == "AbmHeartbeat", "\(name) description has no template")
            let book = try String(contentsOf: Self.root.appendingPathComponent("runbooks/\(name).md"), encoding: .utf8)
            for section in ["## Meaning", "## Impact", "## Diagnosis", "## Mitigation"] { #expect(book.contains(section), "\(name).md lacks \(section)") }
        }
        let index = try String(contentsOf: Self.root.appendingPathComponent("runbooks/README.md"), encoding: .utf8)
        for name in names { #expect(index.contains("[\(name)](\(name).md)")) }
    }

    /// Every metric the rules read is one the service exposes (or a recording rule, or Prometheus's own).
    @Test func rulesUseOnlyKnownMetrics() throws {
        let known = Set(MetricCatalogue.entries.map(\.name))
        var recorded = Set<String>()
        var exprs: [String] = []
        for line in Self.rules.split(separator: "\n") {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.hasPrefix("- record: ") { recorded.insert(String(t.dropFirst("- record: ".count))) }
            if t.hasPrefix("expr: ") { exprs.append(String(t.dropFirst("expr: ".count))) }
        }
        let keywords: Set<String> = ["sum", "max", "by", "rate", "increase", "and", "on", "histogram_quantile", "vector", "job", "instance", "le", "status", "state", "route"]
        let pattern = try Regex(#"[a-zA-Z_:][a-zA-Z0-9_:]*"#)
        for expr in exprs {
            // Drop label matchers' values and durations before looking at names.
            let stripped = expr.replacing(try Regex(#""[^"]*""#), with: "").replacing(try Regex(#"\[[0-9a-z]+\]"#), with: "")
            for m in stripped.matches(of: pattern) {
                var name = String(stripped[m.range])
                if keywords.contains(name) || name == "up" || recorded.contains(name) { continue }
                if name.hasSuffix("_bucket") { name.removeLast("_bucket".count) }
                #expect(known.contains(name), "\(name) in \(expr)")
            }
        }
    }
}
