import Foundation
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Measures how late each event loop runs a scheduled probe, every `interval`. A loop that is blocked
/// (a handler doing CPU work, a stall) shows up as lag, and as no progress at all when it never answers.
/// Liveness and the systemd watchdog read it.
public final class EventLoopMonitor: Service, Sendable {
    public let interval: Duration
    private let loops: [any EventLoop]
    private struct State {
        var lastProgress: ContinuousClock.Instant = .now
        var recentLag: Duration = .zero
        var outstanding: [Int: ContinuousClock.Instant] = [:]
    }
    private let state = Mutex(State())

    public init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, interval: Duration = .milliseconds(250)) {
        self.loops = Array(group.makeIterator())
        self.interval = interval
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            probe()
            try? await Task.sleep(for: interval)
        }
    }

    /// Sends one probe to every loop; each records its lag when it runs.
    public func probe() {
        let now = ContinuousClock.now
        for (i, loop) in loops.enumerated() {
            let first = state.withLock { s -> Bool in
                if s.outstanding[i] != nil { return false }
                s.outstanding[i] = now
                return true
            }
            guard first else { continue }
            loop.execute { [self] in
                let ran = ContinuousClock.now
                self.state.withLock { s in
                    let sent = s.outstanding.removeValue(forKey: i) ?? ran
                    let lag = ran - sent
                    // Decay old lag so one slow moment does not stick for ever.
                    s.recentLag = max(lag, s.recentLag / 2)
                    if s.outstanding.isEmpty { s.lastProgress = ran }
                }
            }
        }
    }

    /// The largest recent lag, counting a probe still waiting as lag so far.
    public var lag: Duration {
        state.withLock { s in
            let now = ContinuousClock.now
            let waiting = s.outstanding.values.map { now - $0 }.max() ?? .zero
            return max(s.recentLag, waiting)
        }
    }

    /// Probes sent and not yet run.
    public var pendingProbes: Int { state.withLock { $0.outstanding.count } }

    /// When every loop last answered its probe.
    public var lastProgress: ContinuousClock.Instant { state.withLock { $0.lastProgress } }

    public var lagSeconds: Double {
        let c = lag.components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}

/// Liveness from the event loops: warn past `warnAfter` of lag, fail past `failAfter`.
public struct EventLoopLagCheck: HealthCheck {
    public let name = "event-loop:lag"
    public let probes: HealthProbes = [.live, .ready]
    public let monitor: EventLoopMonitor
    public let warnAfter: Duration
    public let failAfter: Duration

    public init(monitor: EventLoopMonitor, warnAfter: Duration = .milliseconds(100), failAfter: Duration = .seconds(2)) {
        self.monitor = monitor
        self.warnAfter = warnAfter
        self.failAfter = failAfter
    }

    public func check() async -> HealthCheckResult {
        let lag = monitor.lag
        let status: HealthStatus = lag > failAfter ? .fail : (lag > warnAfter ? .warn : .pass)
        return HealthCheckResult(status, observedValue: monitor.lagSeconds * 1000, observedUnit: "ms")
    }
}

/// The event-loop lag as a gauge.
public struct EventLoopCollector: MetricsCollector {
    public let name = "event_loop"
    public let monitor: EventLoopMonitor
    public init(monitor: EventLoopMonitor) { self.monitor = monitor }
    public func collect() async throws -> [MetricFamilySnapshot] {
        [.single(MetricCatalogue.eventLoopLag, MetricCatalogue.entry(MetricCatalogue.eventLoopLag)!.help, .gauge, monitor.lagSeconds)]
    }
}
