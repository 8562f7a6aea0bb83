import CSystemd
import Foundation

/// Tells the service manager what the service is doing (sd_notify). Two implementations: systemd's
/// (a no-op when NOTIFY_SOCKET is unset) and none.
public protocol ServiceNotifier: Sendable {
    /// Sends `KEY=VALUE` assignments, one per line.
    func notify(_ assignments: [String])
    /// The watchdog interval systemd expects pings within, when the watchdog is on for this process.
    var watchdogInterval: Duration? { get }
}

/// libsystemd's `sd_notify`. The environment is never unset, so child processes see it too, and
/// `WATCHDOG_PID` is honoured by `sd_watchdog_enabled`.
public struct SystemdNotifier: ServiceNotifier {
    public init() {}

    public func notify(_ assignments: [String]) {
        _ = sd_notify(0, assignments.joined(separator: "\n"))
    }

    public var watchdogInterval: Duration? {
        var usec: UInt64 = 0
        guard sd_watchdog_enabled(0, &usec) > 0, usec > 0 else { return nil }
        return .microseconds(Int64(usec))
    }

    /// `MONOTONIC_USEC` for RELOADING=1: CLOCK_MONOTONIC in microseconds.
    public static func monotonicMicroseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec) / 1000
    }
}

/// For processes not started by systemd, and for tests.
public struct NoNotifier: ServiceNotifier {
    public init() {}
    public func notify(_ assignments: [String]) {}
    public var watchdogInterval: Duration? { nil }
}
