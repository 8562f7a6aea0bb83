import Foundation
import Logging

/// Crash reports of earlier runs: the unit sets `SWIFT_BACKTRACE=...,format=json,output-to=<ABM_CRASH_DIR>`, so a
/// crash leaves the Swift runtime's JSON backtrace there (`abm-<pid>-<n>.json`). At start, each report not seen
/// before is logged once (`event=crash_report`: time, signal, the crashed thread's first frames), becomes an error
/// event (source `crash`) and is counted in `abm_crash_reports_recent`, a gauge that holds the number found for
/// the first hour of this run (a counter that jumps before the first scrape would show no increase; this alerts
/// for an hour after the restart that followed a crash). The reports stay where they are, as evidence; their
/// names are remembered in `.reported` in the same directory.
public struct CrashReports: Sendable {
    public let directory: String
    let errors: ErrorEvents?
    let logger: Logger
    /// A report larger than this is reported by name only (a runaway file never costs more to read).
    static let maxBytes = 8 << 20
    /// At most this many reports are read per start; the rest wait for the next.
    static let maxPerStart = 50

    public init(directory: String, errors: ErrorEvents? = nil, logger: Logger) {
        self.directory = directory
        self.errors = errors
        self.logger = logger
    }

    public struct Summary: Equatable, Sendable {
        public var file: String
        public var time: String?
        public var description: String
        public var frames: [String]
    }

    /// Reads what a report says: its time, its description ("Illegal instruction", "Segmentation fault") and
    /// the crashed thread's first frames that are not the runtime's own failure machinery.
    public static func summarize(_ data: Data, file: String) -> Summary {
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            return Summary(file: file, time: nil, description: "unreadable crash report", frames: [])
        }
        let threads = root["threads"] as? [[String: Any]] ?? []
        let crashed = threads.first { $0["crashed"] as? Bool == true } ?? threads.first ?? [:]
        let frames = (crashed["frames"] as? [[String: Any]] ?? []).compactMap { $0["description"] as? String }
        let own = frames.filter { f in
            !["_assertionFailure", "fatalErrorMessage", "_fatalErrorMessage", "swift_", "_swift_", "abort", "raise"].contains { f.hasPrefix($0) }
                && !f.hasPrefix("closure #1 in closure #1 in _assertionFailure")
        }
        return Summary(
            file: file, time: root["timestamp"] as? String, description: root["description"] as? String ?? "crash",
            frames: Array((own.isEmpty ? frames : own).prefix(5)))
    }

    /// Logs and counts the reports not reported before; returns them. Never throws: a directory that cannot be
    /// read is logged at warning and left for the next start.
    @discardableResult
    public func scan() -> [Summary] {
        let fm = FileManager.default
        // The backtracer writes into this directory but does not create it.
        if !fm.fileExists(atPath: directory) {
            do {
                try fm.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
            } catch {
                logger.warning("the crash report directory cannot be created", metadata: ["path": .string(directory), "error": "\(error)"])
            }
        }
        guard let names = try? fm.contentsOfDirectory(atPath: directory) else { return [] }
        let ledger = directory + "/.reported"
        var reported = Set(((try? String(contentsOfFile: ledger, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init))
        let fresh = names.filter { $0.hasSuffix(".json") && !reported.contains($0) }.sorted().prefix(Self.maxPerStart)
        var out: [Summary] = []
        for name in fresh {
            let path = directory + "/" + name
            let size = (try? fm.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            let summary: Summary
            if size > Self.maxBytes {
                summary = Summary(file: name, time: nil, description: "crash report too large to read (\(size) bytes)", frames: [])
            } else if let data = fm.contents(atPath: path) {
                summary = Self.summarize(data, file: name)
            } else {
                continue
            }
            out.append(summary)
            let metadata: Logger.Metadata = [
                "crash_file": .string(path), "crash_time": .string(summary.time ?? ""),
                "crash_frames": .string(summary.frames.joined(separator: " | ")),
            ]
            if let errors {
                // One line: the error event (event=crash_report) carries the report's place and frames.
                errors.record(
                    source: "crash", type: summary.description, message: summary.frames.first ?? summary.description, logger: logger,
                    metadata: metadata)
            } else {
                logger.critical("an earlier run crashed: \(summary.description)", metadata: metadata.merging(["event": "crash_report"]) { $1 })
            }
            reported.insert(name)
        }
        if !fresh.isEmpty {
            // Only the names still present are kept, so the ledger never outgrows the directory.
            let present = Set(names)
            let text = reported.filter { present.contains($0) }.sorted().joined(separator: "\n") + "\n"
            do {
                try Data(text.utf8).write(to: URL(fileURLWithPath: ledger), options: .atomic)
            } catch {
                logger.warning("crash reports could not be marked as reported", metadata: ["path": .string(ledger), "error": "\(error)"])
            }
        }
        return out
    }
}

/// `abm_crash_reports_recent`: the reports a start found, for the first hour of the run, then 0.
public struct CrashReportsCollector: MetricsCollector {
    public let name = "crash_reports"
    let found: Int
    let started: ContinuousClock.Instant
    let window: Duration

    public init(found: Int, started: ContinuousClock.Instant = .now, window: Duration = .seconds(3600)) {
        self.found = found
        self.started = started
        self.window = window
    }

    public func collect() async throws -> [MetricFamilySnapshot] {
        let e = MetricCatalogue.entry(MetricCatalogue.crashReports)!
        let value = ContinuousClock.now - started < window ? Double(found) : 0
        return [MetricFamilySnapshot(name: e.name, help: e.help, kind: .gauge, samples: [.init(value: value)])]
    }
}
