import CoreMetrics
import Foundation
import Logging
import Synchronization

/// Error events: every 5xx response and every failed job becomes one structured log line (`event` is
/// `request_failed`, `job_failed` or `crash_report` by source, each with its journald MESSAGE_ID; with
/// `error_type`, `error`, `fingerprint`, `release`, and `trace_id` and `span_id` when tracing is on) and one
/// count in `abm_errors_total{source,type,fingerprint}`.
///
/// The fingerprint is stable across runs and hosts (digits are masked, so ids and counts do not split it). The
/// label set is bounded: the first `maxFingerprintLabels` distinct fingerprints since start keep their own
/// label, later ones count as `other` (their log lines still carry the real fingerprint).
///
/// A fingerprint never seen before by this data directory is also counted in
/// `abm_error_fingerprints_new_total` and logged as `error_new_fingerprint`, for the alert on errors a release
/// introduced. The fingerprints seen are kept in `known` (one per line: fingerprint, release, first time,
/// type), at most `maxKnown` of them, so a restart does not make old errors new again. The file is written off
/// the request path by one writer at a time, so a burst of new fingerprints costs one or two writes.
public final class ErrorEvents: Sendable {
    public let release: String
    private let factory: any MetricsFactory
    private let maxLabels: Int
    private let maxKnown: Int
    private let knownFile: String?
    private let logger: Logger
    private struct State {
        var labelled: Set<String> = []
        var known: [String: String] = [:]  // fingerprint -> its line in the file
        var order: [String] = []
        /// A save is running; `dirty` asks it to write once more when it is done.
        var saving = false
        var dirty = false
    }
    private let state = Mutex(State())
    private let newFingerprints: Counter

    public init(
        release: String, factory: any MetricsFactory, logger: Logger, maxFingerprintLabels: Int = 20, knownFile: String? = nil,
        maxKnown: Int = 10_000
    ) {
        self.release = release
        self.factory = factory
        self.maxLabels = maxFingerprintLabels
        self.maxKnown = maxKnown
        self.knownFile = knownFile
        self.logger = logger
        newFingerprints = Counter(label: MetricCatalogue.errorFingerprintsNew, factory: factory)
        newFingerprints.increment(by: 0)
        // The family exists from the first scrape (rules and runbooks name it): each source's overflow series, at 0.
        for source in ["http", "job", "crash"] {
            Counter(label: MetricCatalogue.errors, dimensions: [("source", source), ("type", "other"), ("fingerprint", "other")], factory: factory)
                .increment(by: 0)
        }
        if let knownFile, let text = try? String(contentsOfFile: knownFile, encoding: .utf8) {
            var s = State()
            for line in text.split(separator: "\n") {
                guard let fp = line.split(separator: "\t").first, fp.count == 12 else { continue }
                if s.known[String(fp)] == nil { s.order.append(String(fp)) }
                s.known[String(fp)] = String(line)
            }
            state.withLock { $0 = s }
        }
    }

    /// Stable across runs and hosts: FNV-1a (64 bits) of the type and the message with its digits masked,
    /// as 12 hex digits.
    public static func fingerprint(type: String, message: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in type.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        h = (h ^ 0x7c) &* 0x100_0000_01b3
        for b in message.utf8 {
            let c: UInt8 = (b >= 0x30 && b <= 0x39) ? 0x23 : b
            h = (h ^ UInt64(c)) &* 0x100_0000_01b3
        }
        let hex = String(h, radix: 16)
        return String((String(repeating: "0", count: 16 - hex.count) + hex).prefix(12))
    }

    /// Records one error event. `logger` is the request's or the job's (its metadata and the current trace
    /// go on the line); `metadata` adds fields such as the route or the job id.
    @discardableResult
    public func record(source: String, type: String, message: String, logger: Logger, metadata: Logger.Metadata = [:]) -> String {
        let fp = Self.fingerprint(type: type, message: message)
        let (label, isNew, startSave) = state.withLock { s -> (String, Bool, Bool) in
            var label = "other"
            if s.labelled.contains(fp) {
                label = fp
            } else if s.labelled.count < maxLabels {
                s.labelled.insert(fp)
                label = fp
            }
            guard s.known[fp] == nil else { return (label, false, false) }
            let clean = type.map { $0 == "\t" || $0 == "\n" ? " " : $0 }
            s.known[fp] = "\(fp)\t\(release)\t\(Int(Date().timeIntervalSince1970))\t\(String(clean))"
            s.order.append(fp)
            while s.order.count > maxKnown { s.known[s.order.removeFirst()] = nil }
            guard knownFile != nil else { return (label, true, false) }
            if s.saving {
                s.dirty = true
                return (label, true, false)
            }
            s.saving = true
            return (label, true, true)
        }
        Counter(label: MetricCatalogue.errors, dimensions: [("source", source), ("type", type), ("fingerprint", label)], factory: factory)
            .increment()
        let fields: Logger.Metadata = [
            "event": .string(Self.event(source)), "source": .string(source), "error_type": .string(type), "error": .string(message),
            "fingerprint": .string(fp), "release": .string(release),
        ]
        logger.error("error event", metadata: metadata.merging(fields) { $1 })
        if isNew {
            newFingerprints.increment()
            let note: Logger.Metadata = [
                "event": "error_new_fingerprint", "source": .string(source), "error_type": .string(type), "fingerprint": .string(fp),
                "release": .string(release),
            ]
            logger.warning("new error fingerprint", metadata: metadata.merging(note) { $1 })
            if startSave, let knownFile { Task.detached { self.saveLoop(to: knownFile) } }
        }
        return fp
    }

    /// The catalogued event (and so the journald MESSAGE_ID) of an error from `source`.
    static func event(_ source: String) -> String {
        switch source {
        case "http": return "request_failed"
        case "job": return "job_failed"
        case "crash": return "crash_report"
        default: return "error_event"
        }
    }

    /// Off the request path, one writer at a time: a burst of new fingerprints costs one or two writes, not
    /// one each.
    private func saveLoop(to path: String) {
        while true {
            let text = state.withLock { s in
                s.dirty = false
                return s.order.compactMap { s.known[$0] }.joined(separator: "\n") + "\n"
            }
            save(text, to: path)
            let again = state.withLock { s in
                if !s.dirty { s.saving = false }
                return s.dirty
            }
            if !again { return }
        }
    }

    /// True once every fingerprint recorded so far is in the file (tests wait on it).
    public var isSaved: Bool { state.withLock { !$0.saving } }

    /// Writes the known fingerprints through a temporary file and a rename; a failure is logged, never thrown.
    private func save(_ text: String, to path: String) {
        let tmp = path + ".tmp"
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: tmp), options: .atomic)
            if rename(tmp, path) != 0 { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        } catch {
            unlink(tmp)
            logger.warning("error fingerprints could not be saved", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }
}
