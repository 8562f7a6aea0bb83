import Foundation
import Testing
import TestSupport

/// The alerting chain end to end over loopback: the real binary evaluating a short-`for` copy of the shipped
/// rules, Debian's Prometheus scraping it with the same rules, and Debian's Alertmanager receiving from both.
/// The checks are in scripts/alerting-e2e.sh; this runs it on the built binary.
extension RealProcessTests {
@Suite(.serialized) struct AlertingE2ETests {
    static var available: Bool {
        ["/usr/bin/prometheus", "/usr/bin/prometheus-alertmanager", "/usr/bin/amtool", "/usr/bin/curl"].allSatisfy {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    @Test(.enabled(if: available, "needs prometheus, prometheus-alertmanager and curl (scripts/bootstrap installs them)"), .timeLimit(.minutes(3)))
    func alertFiresAndResolvesInServicePrometheusAndAlertmanager() async throws {
        let script = SimulateCommandTests.root.appendingPathComponent("scripts/alerting-e2e.sh").path
        let binary = SimulateCommandTests.binary.path
        let (status, output) = try await offPool { try runProgram("/bin/bash", [script, binary, "18500"]) }
        #expect(status == 0, "\(output)")
        for line in [
            "ok: the service fires AbmJobQueueFull", "ok: Prometheus fires AbmJobQueueFull", "ok: Alertmanager holds AbmJobQueueFull",
            "ok: the service delivered to Alertmanager itself", "ok: the service resolves AbmJobQueueFull", "ok: Alertmanager resolves AbmJobQueueFull",
            "PASS",
        ] {
            #expect(output.contains(line), "missing: \(line)")
        }
    }
}
}

/// The shipped Prometheus and Alertmanager configurations pass their own tools' checks, and the same rule
/// files pass both promtool and `abm rules check`.
@Suite struct OpsConfigTests {
    static let root = SimulateCommandTests.root

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/amtool"), "needs amtool"))
    func alertmanagerConfigChecks() async throws {
        let file = Self.root.appendingPathComponent("ops/alertmanager/alertmanager.yml").path
        let (status, output) = try await offPool { try runProgram("/usr/bin/amtool", ["check-config", file]) }
        #expect(status == 0, "\(output)")
        #expect(output.contains("SUCCESS"))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool"), "needs promtool"))
    func prometheusConfigChecksWithTheShippedRules() async throws {
        // The config names the installed path of the rules; check it against the repository's copy.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("prom-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // The single-instance config and the one for several instances over a shared store.
        for name in ["prometheus.yml", "prometheus-cluster.yml"] {
            let config = try String(contentsOf: Self.root.appendingPathComponent("ops/prometheus/\(name)"), encoding: .utf8)
            #expect(config.contains("/etc/prometheus/rules/abm.rules.yml"))
            let rules = Self.root.appendingPathComponent("alerts/abm.rules.yml").path
            let copy = dir.appendingPathComponent(name).path
            try config.replacingOccurrences(of: "/etc/prometheus/rules/abm.rules.yml", with: rules).write(toFile: copy, atomically: true, encoding: .utf8)
            let (status, output) = try await offPool { try runProgram("/usr/bin/promtool", ["check", "config", copy]) }
            #expect(status == 0, "\(name): \(output)")
            #expect(output.contains("SUCCESS: 25 rules found"), "\(name): \(output)")
        }
    }

    @Test func abmRulesCheckAndTestAgreeWithPromtool() async throws {
        let binary = SimulateCommandTests.binary.path
        let rules = Self.root.appendingPathComponent("alerts/abm.rules.yml").path
        let check = try await offPool { try runProgram(binary, ["rules", "check", rules]) }
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("SUCCESS: 25 rules found"))
        let tests = try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("alerts/tests").path)
            .filter { $0.hasSuffix(".test.yml") }.sorted().map { Self.root.appendingPathComponent("alerts/tests/\($0)").path }
        let ours = try await offPool { try runProgram(binary, ["rules", "test"] + tests) }
        #expect(ours.status == 0, "\(ours.output)")
        #expect(ours.output.components(separatedBy: "SUCCESS").count - 1 == tests.count)
        // A broken file fails with its file, rule and position.
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).yml").path
        try "groups:\n  - name: g\n    rules:\n      - alert: X\n        expr: rate(x[5m:1m])\n".write(toFile: bad, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: bad) }
        let failed = try await offPool { try runProgram(binary, ["rules", "check", bad]) }
        #expect(failed.status == 1)
        #expect(failed.output.contains("\(bad):4: group \"g\", rule 1 (alert \"X\")"), "\(failed.output)")
        #expect(failed.output.contains("parse error at char 10: subqueries are outside the supported subset"), "\(failed.output)")
    }
}
