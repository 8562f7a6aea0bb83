import CoreMetrics
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// What the service tells systemd: READY=1 once the listener accepts and startup work is done (with
/// EXTEND_TIMEOUT_USEC while a long startup is still progressing), a STATUS= line kept current, watchdog
/// pings at a quarter of WATCHDOG_USEC while liveness passes and the event loops progress, STOPPING=1 the moment
/// shutdown begins, RELOADING=1 then READY=1 around a reload.
///
/// Put it first in the service group, so it is the last to stop: the watchdog keeps pinging while the
/// HTTP server drains.
public final class SystemdService: Service, Sendable {
    public struct Inputs: Sendable {
        /// True once the service can take requests (listener bound, startup checks passing).
        public var ready: @Sendable () async -> Bool
        /// The one-line status; a call that does not return within 2 s counts as a wedged scheduler.
        public var status: @Sendable () async -> String
        public init(ready: @escaping @Sendable () async -> Bool, status: @escaping @Sendable () async -> String) {
            self.ready = ready
            self.status = status
        }
    }

    let notifier: any ServiceNotifier
    let telemetry: TelemetryBundle
    let inputs: Inputs
    let logger: Logger
    let skipped: Counter
    private let lastStatus = Mutex<String>("")
    private let isReady = Atomic(false)

    public init(notifier: any ServiceNotifier, telemetry: TelemetryBundle, inputs: Inputs, logger: Logger) {
        self.notifier = notifier
        self.telemetry = telemetry
        self.inputs = inputs
        self.logger = logger
        self.skipped = Counter(label: MetricCatalogue.watchdogSkipped, factory: telemetry.metricsFactory)
        telemetry.drain.onDrain { [notifier] in notifier.notify(["STOPPING=1", "STATUS=draining: finishing in-flight requests"]) }
    }

    /// Around a reload (SIGHUP): RELOADING=1 with MONOTONIC_USEC before, READY=1 after.
    public func reloading() {
        notifier.notify(["RELOADING=1", "MONOTONIC_USEC=\(SystemdNotifier.monotonicMicroseconds())", "STATUS=reloading"])
    }

    public func reloaded() {
        notifier.notify(["READY=1"])
        lastStatus.withLock { $0 = "" }
    }

    public func run() async throws {
        let watchdog = notifier.watchdogInterval
        // A quarter of the interval, on a tick of at most a second: pings about 3 s apart with WatchdogSec=10,
        // so one late ping never takes the gap near the limit. Never below half of a short interval (or a
        // second): pings need event-loop progress in between, which the monitor sees every 250 ms.
        let pingEvery = watchdog.map { max($0 / 4, min($0 / 2, .seconds(1))) }
        let tick = min(pingEvery ?? .seconds(1), .seconds(1))
        var policy = WatchdogPolicy()
        var previousPing = ContinuousClock.now
        var lastExtend = ContinuousClock.now - .seconds(10)
        let started = ContinuousClock.now
        // As the first service of the group it hears of shutdown last, once everything else has stopped.
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let now = ContinuousClock.now
            if !isReady.load(ordering: .relaxed) {
                if await inputs.ready() {
                    isReady.store(true, ordering: .relaxed)
                    let status = await statusLine() ?? "serving"
                    notifier.notify(["READY=1", "STATUS=\(status)"])
                    lastStatus.withLock { $0 = status }
                    logger.info("ready", metadata: ["event": "ready", "startup_seconds": "\((now - started).components.seconds)"])
                } else if now - lastExtend >= .seconds(5) {
                    // Startup is still progressing (jobs being recovered): ask for more time.
                    notifier.notify(["EXTEND_TIMEOUT_USEC=15000000", "STATUS=starting: recovering jobs"])
                    lastExtend = now
                }
            }
            var status: String?
            if isReady.load(ordering: .relaxed) {
                status = await statusLine()
                if let status, status != lastStatus.withLock({ $0 }) {
                    notifier.notify(["STATUS=\(status)"])
                    lastStatus.withLock { $0 = status }
                }
            }
            if let pingEvery, now - previousPing >= pingEvery {
                let live = await telemetry.health.report(.live)
                let reason = live.entries.first { $0.result.status == .fail }.map { "\($0.name) \($0.result.output ?? "")" }
                let decision = policy.decide(
                    live: live.status != .fail, liveReason: reason, schedulerResponsive: status != nil || !isReady.load(ordering: .relaxed),
                    lastLoopProgress: telemetry.eventLoops.lastProgress, previousPing: previousPing)
                switch decision {
                case .ping:
                    notifier.notify(["WATCHDOG=1"])
                case .skip(let why):
                    skipped.increment()
                    logger.warning("watchdog ping skipped", metadata: ["event": "watchdog_skipped", "reason": "\(why)"])
                case .trigger(let why):
                    skipped.increment()
                    logger.critical("watchdog triggered", metadata: ["event": "watchdog_skipped", "reason": "\(why)"])
                    notifier.notify(["WATCHDOG=trigger", "STATUS=failing: \(why)"])
                }
                previousPing = now
            }
            try? await Task.sleep(for: tick)
        }
    }

    /// The status line, or nil when it could not be had within 2 s (the scheduler is wedged).
    private func statusLine() async -> String? {
        let inputs = self.inputs
        return await withTaskGroup(of: String?.self) { group in
            group.addTask { await inputs.status() }
            group.addTask {
                try? await Task.sleep(for: .seconds(2))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}
