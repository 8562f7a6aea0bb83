/// Whether to send the next watchdog ping: only while liveness passes and the event loops have made progress
/// since the previous ping, so a stalled loop or a wedged scheduler stops the pings and systemd restarts
/// the service. Pure, over times it is given.
public struct WatchdogPolicy: Sendable {
    public enum Decision: Equatable, Sendable {
        case ping
        case skip(String)
        /// A fatal internal state: ask systemd to act now (WATCHDOG=trigger).
        case trigger(String)
    }

    /// Consecutive failed liveness checks after which the watchdog is triggered at once.
    public var triggerAfterFailures = 3
    private(set) var failures = 0

    public init() {}

    /// `lastLoopProgress` is when every event loop last ran a probe; `previousPing` when the last ping went
    /// out (or the service started).
    public mutating func decide(
        live: Bool, liveReason: String?, schedulerResponsive: Bool, lastLoopProgress: ContinuousClock.Instant,
        previousPing: ContinuousClock.Instant
    ) -> Decision {
        var reason: String?
        if !live { reason = "liveness failing: \(liveReason ?? "unknown")" }
        else if !schedulerResponsive { reason = "job scheduler not responding" }
        else if lastLoopProgress < previousPing { reason = "event loops made no progress since the last ping" }
        guard let reason else {
            failures = 0
            return .ping
        }
        failures += 1
        if failures >= triggerAfterFailures && !live { return .trigger(reason) }
        return .skip(reason)
    }
}
