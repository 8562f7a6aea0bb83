import Foundation

/// When a log file rotates: past a size, and optionally when the UTC day changes. Pure, over times it is
/// given, so it is tested without waiting for midnight.
public struct RotationPolicy: Sendable, Equatable {
    /// Rotate when the file would grow past this many bytes (0 = never by size).
    public var maxBytes: Int
    /// Rotated files kept (`abm.log.1` newest ... `abm.log.N`).
    public var backups: Int
    public var daily: Bool
    /// Gzip rotated files in the background.
    public var compress: Bool

    public init(maxBytes: Int = 10 * 1024 * 1024, backups: Int = 5, daily: Bool = false, compress: Bool = false) {
        self.maxBytes = maxBytes
        self.backups = backups
        self.daily = daily
        self.compress = compress
    }

    public enum Reason: String, Sendable, Equatable { case size, daily }

    /// Whether to rotate before writing `pending` more bytes to a file of `size` bytes opened at `openedAt`.
    /// An empty file never rotates, so one oversized batch cannot rotate forever.
    public func shouldRotate(size: Int, pending: Int, openedAt: TimeInterval, now: TimeInterval) -> Reason? {
        guard size > 0 else { return nil }
        if maxBytes > 0 && size + pending > maxBytes { return .size }
        if daily && Self.day(openedAt) != Self.day(now) { return .daily }
        return nil
    }

    static func day(_ t: TimeInterval) -> Int64 { Int64((t / 86400).rounded(.down)) }
}
