import CoreMetrics
import Foundation
import Logging

/// Crash reports of earlier runs: the unit sets `SWIFT_BACKTRACE=...,format=json,output-to=<ABM_CRASH_DIR>`, so a
/// crash leaves the Swift runtime's JSON backtrace there (`abm-<pid>-<n>.json`). At start, each report not seen
/// before is logged once (`event=crash_report`: time, signal, the crashed thread's first frames), becomes an error
/// event (source `crash`, so a new crash site raises the new-fingerprint alert) and is counted in
/// `abm_crash_reports_total`. The reports stay where they are, as evidence; their names are remembered in
/// `.reported` in the same directory.
public struct CrashReports: Sendable {
    public let directory: String
    let factory: any MetricsFactory
    let errors: ErrorEvents?
    let logger: Logger
    /// A report larger than this is reported by name only (a runaway file never costs more to read).
    static let maxBytes = 8 << 20
    /// At most this many reports are read per start; the rest wait for the next.
    static let maxPerStart = 50

    public init(directory: String, factory: any MetricsFactory, errors: ErrorEvents? = nil, logger: Logger) {
        self.directory = directory
        self.factory = factory
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
        let counter = Counter(label: MetricCatalogue.crashReports, factory: factory)
        counter.increment(by: 0)
        let fm = FileManager.default
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
            counter.increment()
            let metadata: Logger.Metadata = [
                "event": "crash_report", "crash_file": .string(path), "crash_time": .string(summary.time ?? ""),
                "crash_frames": .string(summary.frames.joined(separator: " | ")),
            ]
            logger.critical("an earlier run crashed: \(summary.description)", metadata: metadata)
            errors?.record(
                source: "crash", type: summary.description, message: summary.frames.first ?? summary.description, logger: logger,
                metadata: ["crash_file": .string(path)])
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
