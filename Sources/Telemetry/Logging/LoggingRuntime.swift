import Foundation
import Logging

/// Where logs go (`ABM_LOG_TARGET`).
public enum LogTarget: String, Sendable, CaseIterable {
    /// journald when systemd connected stderr to the journal, else stderr (plus the file when one is set).
    case auto
    case stderr
    case file
    case journald
}

public struct LoggingConfiguration: Sendable, Equatable {
    public var target: LogTarget = .auto
    public var level: Logger.Level = .info
    /// `ABM_LOG_FILE`; required for the `file` target, optional for `auto`.
    public var file: String?
    public var rotation = RotationPolicy()
    public var fileMode: mode_t = 0o640
    public init() {}
}

/// The logging system of one process: sinks chosen from the configuration, one level for every logger,
/// the statistics the metrics report, and the file writer to reopen on SIGHUP.
public final class LoggingRuntime: Sendable {
    public let statistics = LogStatistics()
    public let level: TelemetryLogHandler.LevelBox
    public let fileWriter: RotatingFileWriter?
    public let sinks: [any LogSink]
    /// What `auto` resolved to, for the startup log line.
    public let destinations: [String]
    private let formatter = JSONLineFormatter()

    public init(_ c: LoggingConfiguration, environment: [String: String] = ProcessInfo.processInfo.environment, extraSinks: [any LogSink] = []) {
        level = .init(c.level)
        var sinks: [any LogSink] = []
        var names: [String] = []
        var writer: RotatingFileWriter?
        let journal = c.target == .journald || (c.target == .auto && JournaldSink.stderrIsJournal(environment: environment))
        if journal {
            sinks.append(JournaldSink(stats: statistics))
            names.append("journald")
        } else if c.target != .file {
            sinks.append(StandardErrorSink())
            names.append("stderr")
        }
        if let path = c.file, c.target == .file || (c.target == .auto && !journal) {
            let w = RotatingFileWriter(path: path, policy: c.rotation, mode: c.fileMode, stats: statistics)
            writer = w
            sinks.append(FileSink(writer: w))
            names.append("file:\(path)")
        }
        self.fileWriter = writer
        self.sinks = sinks + extraSinks
        self.destinations = names
    }

    public func handler(label: String) -> any LogHandler {
        TelemetryLogHandler(label: label, sinks: sinks, level: level, stats: statistics, formatter: formatter)
    }

    /// SIGHUP: reopen the log file so logrotate can move it.
    public func reopen() { fileWriter?.reopen() }

    public func flush() {
        for s in sinks { s.flush() }
    }

    public func shutdown() { fileWriter?.close() }
}
