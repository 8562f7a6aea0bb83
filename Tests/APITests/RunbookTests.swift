import Alerting
import Foundation
import Testing

@testable import API
@testable import Telemetry

/// The runbooks are checked against the code: every alert has one and every runbook an alert, every
/// `runbook_url` points at its own file, and every metric, recording rule, setting, journald field,
/// MESSAGE_ID and unit a runbook names exists.
@Suite struct RunbookTests {
    static let root = ConfigurationTests.root

    static func runbooks() throws -> [String: String] {
        let dir = root.appendingPathComponent("runbooks")
        var out: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) where name.hasSuffix(".md") && name != "README.md" {
            out[String(name.dropLast(3))] = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
        }
        return out
    }

    static func rules() throws -> [RuleDefinition] {
        try RuleFile.load(path: root.appendingPathComponent("alerts/abm.rules.yml").path).groups.flatMap(\.rules)
    }

    @Test func oneRunbookPerAlertAndNoOrphans() throws {
        let books = try Self.runbooks()
        let alerts = try Self.rules().filter { $0.kind == .alerting }
        #expect(Set(books.keys) == Set(alerts.map(\.name)))
        for a in alerts { #expect(a.runbook == "runbooks/\(a.name).md", "\(a.name): runbook_url \(a.runbook ?? "none")") }
        let index = try String(contentsOf: Self.root.appendingPathComponent("runbooks/README.md"), encoding: .utf8)
        for name in books.keys { #expect(index.contains("(\(name).md)"), "README does not index \(name)") }
    }

    @Test func runbooksNameOnlyWhatExists() throws {
        let metrics = Set(MetricCatalogue.entries.map(\.name))
        let recorded = Set(try Self.rules().filter { $0.kind == .recording }.map(\.name))
        let variables = Set(ServiceConfiguration.variables)
        let sources = try Self.sourceText()
        let journald: Set<String> = ["MESSAGE_ID", "PRIORITY", "SYSLOG_IDENTIFIER", "_SYSTEMD_UNIT", "_PID", "DOCUMENTATION", "CODE_FILE", "CODE_FUNC"]
        var checked = 0
        for (name, text) in try Self.runbooks().sorted(by: { $0.key < $1.key }) + [("README", try String(contentsOf: Self.root.appendingPathComponent("runbooks/README.md"), encoding: .utf8))] {
            for m in text.matches(of: #/\b((?:abm|process)_[a-z0-9_]+)\b/#) {
                var metric = String(m.1)
                for suffix in ["_bucket", "_sum", "_count"] where metric.hasSuffix(suffix) && !metrics.contains(metric) { metric.removeLast(suffix.count) }
                #expect(metrics.contains(metric), "\(name).md names metric \(m.1), which the service does not expose")
                checked += 1
            }
            for m in text.matches(of: #/\b(abm:[a-z0-9_:]+)\b/#) {
                #expect(recorded.contains(String(m.1)), "\(name).md names recording rule \(m.1), which alerts/abm.rules.yml does not define")
                checked += 1
            }
            for m in text.matches(of: #/\b(ABM_[A-Z0-9_]+)\b/#) {
                #expect(variables.contains(String(m.1)), "\(name).md names setting \(m.1), which the service does not read")
                checked += 1
            }
            for line in text.split(separator: "\n") where line.contains("journalctl") {
                for m in line.matches(of: #/\b([A-Z_][A-Z0-9_]+)=([A-Za-z0-9_]*)/#) {
                    let field = String(m.1)
                    if field == "MESSAGE_ID" {
                        #expect(LogEventCatalogue.messageIDs.values.contains(String(m.2)), "\(name).md: unknown MESSAGE_ID \(m.2)")
                    } else if !journald.contains(field) && !variables.contains(field) {
                        let logged = sources.contains("\"\(field.lowercased())\":")
                        #expect(logged, "\(name).md queries journald field \(field), which no log line carries")
                    }
                    checked += 1
                }
                for m in line.matches(of: #/-u ([A-Za-z0-9_.@-]+)/#) {
                    #expect(m.1 == "abm" || m.1 == "abm.service" || m.1 == "postgresql", "\(name).md: unknown unit \(m.1)")
                }
            }
            for m in text.matches(of: #/\b([a-z0-9-]+)\.service\b/#) {
                #expect(["abm", "prometheus", "prometheus-alertmanager"].contains(String(m.1)), "\(name).md: unknown unit \(m.1).service")
            }
        }
        #expect(checked > 40, "the check found too little to check: \(checked)")
    }

    static func sourceText() throws -> String {
        var all = ""
        let dir = root.appendingPathComponent("Sources")
        for case let path as String in FileManager.default.enumerator(atPath: dir.path)! where path.hasSuffix(".swift") {
            all += try String(contentsOf: dir.appendingPathComponent(path), encoding: .utf8)
        }
        return all
    }
}
