import Logging
import Synchronization

/// Counters of the logging system, read by the logging metrics collector.
public final class LogStatistics: Sendable {
    private let lines = Mutex<[Logger.Level: Int]>([:])
    private let droppedLines = Atomic<Int>(0)
    private let rotationCount = Atomic<Int>(0)
    private let writeErrorCount = Atomic<Int>(0)

    public init() {}

    public func line(_ level: Logger.Level) { lines.withLock { $0[level, default: 0] += 1 } }
    public func dropped(_ n: Int) { droppedLines.add(n, ordering: .relaxed) }
    public func rotated() { rotationCount.add(1, ordering: .relaxed) }
    public func writeError() { writeErrorCount.add(1, ordering: .relaxed) }

    public var linesByLevel: [Logger.Level: Int] { lines.withLock { $0 } }
    public var dropped: Int { droppedLines.load(ordering: .relaxed) }
    public var rotations: Int { rotationCount.load(ordering: .relaxed) }
    public var writeErrors: Int { writeErrorCount.load(ordering: .relaxed) }
}
