import Logging
import Synchronization

/// Counters of the logging system, read by the logging metrics collector.
public final class LogStatistics: Sendable {
    // One atomic per level, so counting costs no lock on the logging hot path.
    private let trace = Atomic<Int>(0), debug = Atomic<Int>(0), info = Atomic<Int>(0), notice = Atomic<Int>(0)
    private let warning = Atomic<Int>(0), error = Atomic<Int>(0), critical = Atomic<Int>(0)

    private func counter(_ level: Logger.Level) -> Int {
        switch level {
        case .trace: return trace.load(ordering: .relaxed)
        case .debug: return debug.load(ordering: .relaxed)
        case .info: return info.load(ordering: .relaxed)
        case .notice: return notice.load(ordering: .relaxed)
        case .warning: return warning.load(ordering: .relaxed)
        case .error: return error.load(ordering: .relaxed)
        case .critical: return critical.load(ordering: .relaxed)
        }
    }
    private let droppedLines = Atomic<Int>(0)
    private let rotationCount = Atomic<Int>(0)
    private let writeErrorCount = Atomic<Int>(0)

    public init() {}

    static let levels: [Logger.Level] = [.trace, .debug, .info, .notice, .warning, .error, .critical]

    public func line(_ level: Logger.Level) {
        switch level {
        case .trace: trace.add(1, ordering: .relaxed)
        case .debug: debug.add(1, ordering: .relaxed)
        case .info: info.add(1, ordering: .relaxed)
        case .notice: notice.add(1, ordering: .relaxed)
        case .warning: warning.add(1, ordering: .relaxed)
        case .error: error.add(1, ordering: .relaxed)
        case .critical: critical.add(1, ordering: .relaxed)
        }
    }
    public func dropped(_ n: Int) { droppedLines.add(n, ordering: .relaxed) }
    public func rotated() { rotationCount.add(1, ordering: .relaxed) }
    public func writeError() { writeErrorCount.add(1, ordering: .relaxed) }

    public var linesByLevel: [Logger.Level: Int] {
        var out: [Logger.Level: Int] = [:]
        for level in Self.levels {
            let n = counter(level)
            if n > 0 { out[level] = n }
        }
        return out
    }
    public var dropped: Int { droppedLines.load(ordering: .relaxed) }
    public var rotations: Int { rotationCount.load(ordering: .relaxed) }
    public var writeErrors: Int { writeErrorCount.load(ordering: .relaxed) }
}
