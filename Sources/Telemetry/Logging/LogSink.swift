import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Where formatted log records go.
public protocol LogSink: Sendable {
    func write(_ record: LogRecord, json: @autoclosure () -> [UInt8])
    func flush()
}

/// JSON lines on standard error, one `write` per line so lines from many threads never interleave.
public struct StandardErrorSink: LogSink {
    public init() {}
    public func write(_ record: LogRecord, json: @autoclosure () -> [UInt8]) {
        let bytes = json()
        _ = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }
    public func flush() {}
}

/// JSON lines to a rotating file.
public struct FileSink: LogSink {
    public let writer: RotatingFileWriter
    public init(writer: RotatingFileWriter) { self.writer = writer }
    public func write(_ record: LogRecord, json: @autoclosure () -> [UInt8]) { writer.write(json()) }
    public func flush() { writer.flush() }
}

/// Records kept in memory, for tests.
public final class MemorySink: LogSink {
    private let records = Mutex<[LogRecord]>([])
    public init() {}
    public func write(_ record: LogRecord, json: @autoclosure () -> [UInt8]) { records.withLock { $0.append(record) } }
    public func flush() {}
    public var all: [LogRecord] { records.withLock { $0 } }
}
