import Dispatch
import Foundation
import Logging
import Prometheus
import Testing

@testable import Telemetry

/// Error events: one structured line and one count per event, fingerprints stable and bounded, new ones
/// remembered across restarts; crash reports of earlier runs reported once.
@Suite struct ErrorEventsTests {
    func scrape(_ registry: PrometheusCollectorRegistry) -> [String] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self).split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") }
    }

    func directory() -> String {
        let path = NSTemporaryDirectory() + "abm-errors-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func fingerprintsAreStableAndIgnoreDigits() {
        let a = ErrorEvents.fingerprint(type: "StoreError", message: "job abm_12ab failed after 3 tries")
        #expect(a == ErrorEvents.fingerprint(type: "StoreError", message: "job abm_98ab failed after 7 tries"))
        #expect(a != ErrorEvents.fingerprint(type: "OtherError", message: "job abm_12ab failed after 3 tries"))
        #expect(a != ErrorEvents.fingerprint(type: "StoreError", message: "job abm_12cd failed after 3 tries"))
        #expect(a.count == 12 && a.allSatisfy(\.isHexDigit))
        // Pinned: the same input gives the same fingerprint in every release and on every host.
        #expect(ErrorEvents.fingerprint(type: "HTTP500", message: "boom") == "d802ab2f314a")
    }

    @Test func oneLineAndOneCountPerEventWithABoundedLabelSet() throws {
        let registry = PrometheusCollectorRegistry()
        let capture = CapturedLogs()
        let logger = Logger(label: "t") { _ in capture }
        let events = ErrorEvents(
            release: "9.9.9", factory: TelemetryBundle.prometheusFactory(registry: registry), logger: logger, maxFingerprintLabels: 2)
        let fp = events.record(source: "http", type: "HTTP500", message: "boom", logger: logger, metadata: ["route": "/x"])
        events.record(source: "http", type: "HTTP500", message: "boom", logger: logger)
        events.record(source: "job", type: "StoreError", message: "store down", logger: logger)
        events.record(source: "job", type: "Other", message: "third kind", logger: logger)
        events.record(source: "job", type: "Fourth", message: "fourth kind", logger: logger)
        let lines = scrape(registry)
        #expect(lines.contains(#"abm_errors_total{source="http",type="HTTP500",fingerprint="\#(fp)"} 2"#), "\(lines)")
        #expect(lines.contains { $0.hasPrefix(#"abm_errors_total{source="job",type="StoreError",fingerprint=""#) && !$0.contains("other") })
        #expect(lines.contains(#"abm_errors_total{source="job",type="Other",fingerprint="other"} 1"#))
        #expect(lines.contains(#"abm_errors_total{source="job",type="Fourth",fingerprint="other"} 1"#))
        #expect(lines.contains("abm_error_fingerprints_new_total 4"))
        let records = capture.lines.filter { $0.1 == "error event" }
        #expect(records.count == 5 && records.allSatisfy { $0.0 == .error })
        let first = try #require(records.first?.2)
        #expect(first["error_type"] == "HTTP500" && first["error"] == "boom" && first["fingerprint"] == .string(fp))
        #expect(first["release"] == "9.9.9" && first["source"] == "http" && first["route"] == "/x")
        #expect(first["event"] == "request_failed" && records[2].2["event"] == "job_failed", "the catalogued events keep their MESSAGE_IDs")
        // Other fingerprints keep their own value in the log line even when counted as "other".
        #expect(records.last?.2["fingerprint"] == .string(ErrorEvents.fingerprint(type: "Fourth", message: "fourth kind")))
        #expect(capture.lines.filter { $0.2["event"] == "error_new_fingerprint" }.count == 4)
    }

    func saved(_ e: ErrorEvents) async {
        for _ in 0..<500 where !e.isSaved { try? await Task.sleep(for: .milliseconds(10)) }
        #expect(e.isSaved)
    }

    @Test func aFingerprintSeenBeforeARestartIsNotNewAgain() async throws {
        let dir = directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/error-fingerprints.tsv"
        let logger = Logger(label: "t") { _ in SwiftLogNoOpLogHandler() }
        let first = PrometheusCollectorRegistry()
        let a = ErrorEvents(release: "1.0", factory: TelemetryBundle.prometheusFactory(registry: first), logger: logger, knownFile: file)
        a.record(source: "http", type: "HTTP500", message: "boom", logger: logger)
        #expect(scrape(first).contains("abm_error_fingerprints_new_total 1"))
        await saved(a)
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text.hasPrefix(ErrorEvents.fingerprint(type: "HTTP500", message: "boom") + "\t1.0\t"))
        // The next release, after a restart: the old error is not new, a different one is.
        let second = PrometheusCollectorRegistry()
        let b = ErrorEvents(release: "1.1", factory: TelemetryBundle.prometheusFactory(registry: second), logger: logger, knownFile: file)
        b.record(source: "http", type: "HTTP500", message: "boom", logger: logger)
        #expect(scrape(second).contains("abm_error_fingerprints_new_total 0"))
        b.record(source: "job", type: "StoreError", message: "new in 1.1", logger: logger)
        #expect(scrape(second).contains("abm_error_fingerprints_new_total 1"))
        await saved(b)
        #expect(try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").count == 2)
    }

    /// Many new fingerprints at once, from many threads: every one is counted once and the file ends up with
    /// all of them, written by one writer at a time.
    @Test func aBurstOfNewFingerprintsIsSavedWhole() async throws {
        let dir = directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/fp.tsv"
        let registry = PrometheusCollectorRegistry()
        let logger = Logger(label: "t") { _ in SwiftLogNoOpLogHandler() }
        let e = ErrorEvents(release: "1", factory: TelemetryBundle.prometheusFactory(registry: registry), logger: logger, knownFile: file)
        DispatchQueue.concurrentPerform(iterations: 200) { i in
            e.record(source: "job", type: "T", message: "case \(String(UnicodeScalar(UInt8(65 + i % 26)))) \(i / 26 > 0 ? "x" : "")\(String(repeating: "y", count: i / 26))", logger: logger)
        }
        await saved(e)
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 200)
        #expect(Set(lines.map { $0.prefix(12) }).count == 200)
        #expect(scrape(registry).contains("abm_error_fingerprints_new_total 200"))
    }

    @Test func theRememberedSetIsBounded() async throws {
        let dir = directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/fp.tsv"
        let logger = Logger(label: "t") { _ in SwiftLogNoOpLogHandler() }
        let e = ErrorEvents(
            release: "1", factory: TelemetryBundle.prometheusFactory(registry: PrometheusCollectorRegistry()), logger: logger, knownFile: file,
            maxKnown: 3)
        for word in ["a", "b", "c", "d", "e"] { e.record(source: "job", type: "T", message: word, logger: logger) }
        await saved(e)
        let kept = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map { String($0.prefix(12)) }
        #expect(kept == ["c", "d", "e"].map { ErrorEvents.fingerprint(type: "T", message: $0) })
    }
}

@Suite struct CrashReportsTests {
    static let report = #"""
        {"timestamp": "2026-12-07T10:00:00Z", "kind": "crashReport", "description": "Illegal instruction",
         "threads": [{"name": "worker", "crashed": false, "frames": [{"description": "idle + 1"}]},
                     {"name": "main", "crashed": true, "frames": [
                        {"description": "closure #1 in closure #1 in _assertionFailure(_:_:file:line:flags:) + 623"},
                        {"description": "_assertionFailure(_:_:file:line:flags:) + 302"},
                        {"description": "JobQueue.finish(_:outcome:flag:seconds:) + 88"},
                        {"description": "JobQueue.runOnce(_:) + 12"}]}]}
        """#

    @Test func aReportSaysWhereTheCrashWas() {
        let s = CrashReports.summarize(Data(Self.report.utf8), file: "abm-1-0.json")
        #expect(s.description == "Illegal instruction" && s.time == "2026-12-07T10:00:00Z")
        #expect(s.frames == ["JobQueue.finish(_:outcome:flag:seconds:) + 88", "JobQueue.runOnce(_:) + 12"])
        #expect(CrashReports.summarize(Data("not json".utf8), file: "x.json").description == "unreadable crash report")
    }

    @Test func eachReportIsReportedOnceAndKept() throws {
        let dir = NSTemporaryDirectory() + "abm-crash-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(Self.report.utf8).write(to: URL(fileURLWithPath: dir + "/abm-41-0.json"))
        try Data("ignored".utf8).write(to: URL(fileURLWithPath: dir + "/notes.txt"))
        let registry = PrometheusCollectorRegistry()
        let factory = TelemetryBundle.prometheusFactory(registry: registry)
        let logger = Logger(label: "t") { _ in SwiftLogNoOpLogHandler() }
        let errors = ErrorEvents(release: "1", factory: factory, logger: logger)
        let crashes = CrashReports(directory: dir, errors: errors, logger: logger)
        #expect(crashes.scan().map(\.file) == ["abm-41-0.json"])
        #expect(crashes.scan().isEmpty, "a report is reported once")
        try Data(Self.report.utf8).write(to: URL(fileURLWithPath: dir + "/abm-42-0.json"))
        #expect(crashes.scan().map(\.file) == ["abm-42-0.json"])
        #expect(FileManager.default.fileExists(atPath: dir + "/abm-41-0.json"), "the evidence stays")
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        let text = String(decoding: buffer, as: UTF8.self)
        #expect(text.contains(#"abm_errors_total{source="crash",type="Illegal instruction""#))
        // A missing directory is not an error.
        #expect(CrashReports(directory: dir + "/none", logger: logger).scan().isEmpty)
    }

    @Test func theGaugeHoldsForTheFirstHourOnly() async throws {
        let fresh = try await CrashReportsCollector(found: 2).collect()
        #expect(fresh.first?.name == "abm_crash_reports_recent" && fresh.first?.samples.first?.value == 2)
        let old = try await CrashReportsCollector(found: 2, started: .now - .seconds(3601)).collect()
        #expect(old.first?.samples.first?.value == 0)
    }
}
