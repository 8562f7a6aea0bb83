import CSystemd
import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// Native journald entries through `sd_journal_sendv`: `MESSAGE`, `PRIORITY` from the level,
/// `SYSLOG_IDENTIFIER`, `CODE_FILE`/`CODE_LINE`/`CODE_FUNC`, `LOGGER`, every metadata key as an upper-case
/// field (`request_id` becomes `REQUEST_ID`), `MESSAGE_ID` for catalogued events and `DOCUMENTATION` when a
/// runbook is attached.
public struct JournaldSink: LogSink {
    public let identifier: String
    private let stats: LogStatistics

    public init(identifier: String = "abm", stats: LogStatistics) {
        self.identifier = identifier
        self.stats = stats
    }

    public static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }

    /// `request_id` -> `REQUEST_ID`; journald field names are upper-case letters, digits and `_`, not
    /// starting with a digit or `_`.
    public static func fieldName(_ key: String) -> String {
        var out = String(key.uppercased().map { ($0.isLetter && $0.isASCII) || $0.isNumber ? $0 : "_" })
        while out.hasPrefix("_") { out.removeFirst() }
        if out.first?.isNumber ?? true { out = "F_" + out }
        return String(out.prefix(64))
    }

    public func fields(_ r: LogRecord) -> [String] {
        var f = [
            "MESSAGE=\(r.message)", "PRIORITY=\(Self.priority(r.level))", "SYSLOG_IDENTIFIER=\(identifier)",
            "CODE_FILE=\(r.file)", "CODE_LINE=\(r.line)", "CODE_FUNC=\(r.function)", "LOGGER=\(r.logger)",
        ]
        let reserved: Set<String> = ["MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "CODE_FILE", "CODE_LINE", "CODE_FUNC", "MESSAGE_ID", "DOCUMENTATION"]
        for (key, value) in r.metadata {
            let name = Self.fieldName(key)
            if reserved.contains(name) { continue }
            f.append("\(name)=\(value.description)")
        }
        if case .string(let event)? = r.value("event"), let id = LogEventCatalogue.messageID(for: event) {
            f.append("MESSAGE_ID=\(id)")
        }
        if case .string(let url)? = r.value("runbook") { f.append("DOCUMENTATION=\(url)") }
        return f
    }

    public func write(_ record: LogRecord, json: @autoclosure () -> [UInt8]) {
        let bytes = fields(record).map { Array($0.utf8) }
        let total = bytes.reduce(0) { $0 + $1.count }
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(total, 1), alignment: 1)
        defer { storage.deallocate() }
        var iov: [iovec] = []
        iov.reserveCapacity(bytes.count)
        var offset = 0
        for b in bytes {
            let start = storage.baseAddress! + offset
            b.withUnsafeBytes { start.copyMemory(from: $0.baseAddress!, byteCount: b.count) }
            iov.append(iovec(iov_base: start, iov_len: b.count))
            offset += b.count
        }
        if sd_journal_sendv(&iov, Int32(iov.count)) < 0 {
            stats.dropped(1)
            stats.writeError()
        }
    }

    public func flush() {}

    /// True when stderr is connected to the journal (`JOURNAL_STREAM` names stderr's device and inode),
    /// which is how systemd tells a service that its output goes to journald.
    public static func stderrIsJournal(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard let value = environment["JOURNAL_STREAM"] else { return false }
        let parts = value.split(separator: ":")
        guard parts.count == 2, let dev = UInt64(parts[0]), let ino = UInt64(parts[1]) else { return false }
        var st = stat()
        guard fstat(2, &st) == 0 else { return false }
        return UInt64(st.st_dev) == dev && UInt64(st.st_ino) == ino
    }
}
