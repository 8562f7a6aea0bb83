import Foundation
import Logging
import Synchronization
import Testing

@testable import Alerting

/// Log records, kept for assertions.
final class LogCapture: Sendable {
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }
    let records = Mutex<[Record]>([])
    var all: [Record] { records.withLock { $0 } }

    var logger: Logger {
        Logger(label: "test") { _ in Handler(capture: self) }
    }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let m = (event.metadata ?? [:]).mapValues { "\($0)" }
            capture.records.withLock { $0.append(Record(level: event.level, message: "\(event.message)", metadata: m)) }
        }
    }
}

/// A scrape whose text the test changes.
final class FakeTarget: Sendable {
    let text = Mutex<String>("")
    func set(_ s: String) { text.withLock { $0 = s } }
    var scrape: @Sendable () async -> String { { self.text.withLock { $0 } } }
}

@Suite struct AlertingServiceTests {
    static let rules = """
        groups:
          - name: queue
            interval: 10s
            rules:
              - alert: QueueFull
                expr: queue_pending >= on (job, instance) queue_capacity
                for: 20s
                labels: {severity: critical}
                annotations:
                  summary: "{{ $labels.instance }} queue full ({{ $value }})"
                  runbook_url: "runbooks/QueueFull.md"
              - alert: TargetUp
                expr: up == 1
                labels: {severity: none}
        """

    func tempFile(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rules-\(UUID().uuidString).yml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func service(_ files: [String], target: FakeTarget, logger: Logger, alertmanager: String? = nil) throws -> AlertingService {
        var c = AlertingConfiguration()
        c.ruleFiles = files
        c.evaluationInterval = 10_000
        c.instance = "127.0.0.1:9999"
        c.alertmanagerURL = alertmanager
        c.alertmanagerAttempts = 2
        c.alertmanagerTimeout = 1
        return AlertingService(configuration: c, groups: try AlertingService.loadRules(files), scrape: target.scrape, logger: logger)
    }

    @Test func scrapesItselfFiresLogsAndResolves() async throws {
        let file = try tempFile(Self.rules)
        let target = FakeTarget()
        let logs = LogCapture()
        let s = try service([file], target: target, logger: logs.logger)
        target.set("queue_pending 3\nqueue_capacity 3\n")
        var states: [[String]] = []
        for i in 0..<6 {
            if i == 4 { target.set("queue_pending 0\nqueue_capacity 3\n") }
            states.append(await s.tick(at: 1_000_000 + Int64(i) * 10_000).map { "\($0.rule):\($0.to.rawValue)" }.sorted())
        }
        #expect(states == [["QueueFull:pending", "TargetUp:firing", "TargetUp:pending"], [], ["QueueFull:firing"], [], ["QueueFull:inactive"], []])
        // The target labels come from the configuration, as a Prometheus scrape's would.
        let doc = s.alertsDocument()
        #expect(doc.data.alerts.map { $0.labels["alertname"] } == ["TargetUp"])
        #expect(doc.data.alerts[0].labels["instance"] == "127.0.0.1:9999" && doc.data.alerts[0].labels["job"] == "abm")
        let changes = logs.all.filter { $0.metadata["event"] == "alert_state_change" && $0.metadata["alertname"] == "QueueFull" }
        #expect(changes.map { $0.metadata["alert_state"] ?? "" } == ["pending", "firing", "resolved"])
        #expect(changes[1].level == .error, "a critical alert firing is logged at error")
        #expect(changes[1].metadata["runbook"] == "runbooks/QueueFull.md")
        #expect(changes[1].metadata["summary"] == "127.0.0.1:9999 queue full (3)")
        let rules = s.rulesDocument()
        #expect(rules.data.groups.map(\.interval) == [10])
        #expect(rules.data.groups[0].rules.map(\.health) == ["ok", "ok"])
        #expect(s.rulesDocument(type: "record").data.groups.isEmpty)
    }

    @Test func criticalFiringIsReportedForHealthAndStatus() async throws {
        let target = FakeTarget()
        let s = try service([try tempFile(Self.rules)], target: target, logger: LogCapture().logger)
        target.set("queue_pending 5\nqueue_capacity 1\n")
        for i in 0..<3 { await s.tick(at: Int64(i) * 10_000) }
        #expect(s.firingCritical == ["QueueFull"])
        #expect(s.firing == ["QueueFull"], "severity none (the heartbeat kind) stays out of the status line")
    }

    @Test func unparsableScrapeMarksTheTargetDown() async throws {
        let target = FakeTarget()
        let s = try service([try tempFile("groups:\n  - name: g\n    rules:\n      - alert: Down\n        expr: up == 0\n")], target: target, logger: LogCapture().logger)
        target.set("this is { not an exposition")
        let changes = await s.tick(at: 0)
        #expect(changes.map(\.to) == [.pending, .firing])
    }

    @Test func reloadKeepsTheOldRulesWhenTheNewOnesAreInvalid() async throws {
        let file = try tempFile(Self.rules)
        let target = FakeTarget()
        let logs = LogCapture()
        let s = try service([file], target: target, logger: logs.logger)
        target.set("queue_pending 3\nqueue_capacity 3\n")
        await s.tick(at: 0)
        try "groups:\n  - name: queue\n    rules:\n      - alert: QueueFull\n        expr: topk(1, x)\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(!s.reload())
        #expect(s.rulesDocument().data.groups[0].rules.count == 2)
        #expect(logs.all.contains { $0.level == .error && $0.message.contains("kept the current rules") && ($0.metadata["error"] ?? "").contains("topk") })
        // A valid change applies, and an alert that survives keeps its state.
        try Self.rules.replacingOccurrences(of: "- alert: TargetUp", with: "- alert: TargetUpRenamed").write(toFile: file, atomically: true, encoding: .utf8)
        #expect(s.reload())
        let names = s.rulesDocument().data.groups[0].rules.map(\.name)
        #expect(names == ["QueueFull", "TargetUpRenamed"])
        #expect(s.activeAlerts.map(\.0.activeAt) == [0], "QueueFull is still pending since t=0")
        let metrics = try await s.collector.collect()
        let reloads = metrics.first { $0.name == "abm_alert_rule_reloads_total" }!.samples.map(\.value)
        #expect(reloads == [1, 1])
    }

    @Test func alertmanagerFailuresAreRetriedThenCounted() async throws {
        // A port nobody listens on: every attempt is refused.
        let logs = LogCapture()
        let client = AlertmanagerClient(target: HTTPPoster.Target(url: "http://127.0.0.1:1")!, timeout: 1, attempts: 3, logger: logs.logger)
        let alert = Alert(labels: Labels(["alertname": "A"]), annotations: [:], state: .firing, activeAt: 0, value: 1)
        let started = ContinuousClock.now
        let ok = await client.send([AlertmanagerClient.payload(alert, validUntil: 60_000, generatorURL: "http://x")])
        #expect(!ok)
        #expect(client.failed == 1 && client.sent == 0)
        #expect(ContinuousClock.now - started >= .milliseconds(750), "three attempts with 250 ms and 500 ms between them")
        #expect(logs.all.contains { $0.metadata["event"] == "alert_delivery_failed" && ($0.metadata["error"] ?? "").contains("connect") })
    }

    @Test func payloadsFollowAlertmanagersAPI() throws {
        var alert = Alert(labels: Labels(["alertname": "A", "severity": "critical"]), annotations: ["summary": "s"], state: .firing, activeAt: 1_000, value: 1)
        alert.firedAt = 2_000
        let firing = AlertmanagerClient.payload(alert, validUntil: 62_000, generatorURL: "http://h:1/api/v1/rules")
        #expect(firing.startsAt == "1970-01-01T00:00:02.000Z" && firing.endsAt == "1970-01-01T00:01:02.000Z")
        alert.state = .inactive
        alert.resolvedAt = 5_000
        let resolved = AlertmanagerClient.payload(alert, validUntil: 62_000, generatorURL: "http://h:1/api/v1/rules")
        #expect(resolved.endsAt == "1970-01-01T00:00:05.000Z", "a resolved alert ends when it resolved")
        let json = String(decoding: try JSONEncoder().encode([resolved]), as: UTF8.self)
        for key in ["\"labels\"", "\"annotations\"", "\"startsAt\"", "\"endsAt\"", "\"generatorURL\""] { #expect(json.contains(key)) }
    }

    @Test func tickQueuesDeliveryOnlyWithAnAlertmanager() async throws {
        let target = FakeTarget()
        let without = try service([try tempFile(Self.rules)], target: target, logger: LogCapture().logger)
        #expect(without.alertmanager == nil)
        let with = try service([try tempFile(Self.rules)], target: target, logger: LogCapture().logger, alertmanager: "http://127.0.0.1:1/prefix")
        #expect(with.alertmanager?.target.path == "/prefix")
    }

    @Test func alertmanagerTargetsParse() {
        #expect(HTTPPoster.Target(url: "http://127.0.0.1:9093") == .init(url: "http://127.0.0.1:9093/"))
        #expect(HTTPPoster.Target(url: "http://am.example:80/prefix/")?.path == "/prefix")
        #expect(HTTPPoster.Target(url: "http://[::1]:9093")?.host == "::1")
        #expect(HTTPPoster.Target(url: "https://x") == nil)
        #expect(HTTPPoster.Target(url: "http://:9093") == nil)
        #expect(HTTPPoster.Target(url: "http://x:port") == nil)
    }
}
