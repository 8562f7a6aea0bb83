import Logging

/// A log handler that keeps every event (level, message, its metadata merged over the handler's), for tests
/// that check what was logged.
final class CapturedLogs: LogHandler, @unchecked Sendable {
    var lines: [(Logger.Level, String, Logger.Metadata)] = []
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) { lines.append((event.level, event.message.description, metadata.merging(event.metadata ?? [:]) { $1 })) }
}
