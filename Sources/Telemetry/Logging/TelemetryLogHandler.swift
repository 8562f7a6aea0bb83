import Foundation
#if canImport(Glibc)
    import Glibc
#endif
import Logging
import Synchronization

/// The swift-log handler of the service: builds one `LogRecord` per event, counts it by level, formats it
/// as a JSON line once, and hands it to every sink (stderr, a rotating file, or journald).
public struct TelemetryLogHandler: LogHandler {
    public let label: String
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let sinks: [any LogSink]
    private let formatter: JSONLineFormatter
    private let stats: LogStatistics
    private let levelBox: LevelBox

    /// The process-wide level, changed on reload (SIGHUP) for every logger at once.
    public final class LevelBox: Sendable {
        private let value: Mutex<Logger.Level>
        public init(_ level: Logger.Level) { value = Mutex(level) }
        public var level: Logger.Level {
            get { value.withLock { $0 } }
            set { value.withLock { $0 = newValue } }
        }
    }

    public init(
        label: String, sinks: [any LogSink], level: LevelBox, stats: LogStatistics, formatter: JSONLineFormatter = JSONLineFormatter()
    ) {
        self.label = label
        self.sinks = sinks
        self.levelBox = level
        self.stats = stats
        self.formatter = formatter
    }

    public var logLevel: Logger.Level {
        get { levelBox.level }
        set { levelBox.level = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata, !extra.isEmpty {
            if merged.isEmpty { merged = extra } else { merged.merge(extra) { _, new in new } }
        }
        var flat: [(key: String, value: LogValue)] = []
        flat.reserveCapacity(merged.count)
        MetadataFlattener.flatten(merged, into: &flat)
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let record = LogRecord(
            time: Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9, level: event.level, message: event.message.description, logger: label,
            metadata: flat, file: event.file, function: event.function, line: event.line)
        stats.line(event.level)
        var json: [UInt8]?
        for sink in sinks {
            sink.write(record, json: {
                if let json { return json }
                let j = formatter.format(record)
                json = j
                return j
            }())
        }
    }
}
