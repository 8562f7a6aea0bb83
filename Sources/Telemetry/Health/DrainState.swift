import ServiceLifecycle
import Synchronization

/// Set the moment graceful shutdown begins, before anything stops: readiness turns false at once and the
/// systemd notifier can say STOPPING=1. `DrainSignalService` sets it; put that service last in the
/// top-level service group so it is the first to hear of the shutdown.
public final class DrainState: Sendable {
    private let draining = Atomic(false)
    private let observers = Mutex<[@Sendable () -> Void]>([])

    public init() {}

    public var isDraining: Bool { draining.load(ordering: .acquiring) }

    public func onDrain(_ f: @escaping @Sendable () -> Void) { observers.withLock { $0.append(f) } }

    public func begin() {
        guard draining.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        for f in observers.withLock({ $0 }) { f() }
    }
}

/// Waits for graceful shutdown and marks the service as draining.
public struct DrainSignalService: Service {
    public let state: DrainState
    /// How long readiness reports "draining" while the listener still accepts connections.
    public let delay: Duration
    public init(state: DrainState, delay: Duration = .zero) {
        self.state = state
        self.delay = delay
    }

    public func run() async throws {
        try? await gracefulShutdown()
        state.begin()
        // The group shuts its services down one by one, this one first: the listener stays open while
        // load balancers see readiness fail.
        if delay > .zero { try? await Task.sleep(for: delay) }
    }
}

/// A flag that is set once and never cleared (for example: the listener is bound).
public final class OnceFlag: Sendable {
    private let value = Atomic(false)
    public init() {}
    public var isSet: Bool { value.load(ordering: .acquiring) }
    public func set() { value.store(true, ordering: .releasing) }
}
