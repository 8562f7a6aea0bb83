import Logging
import ServiceLifecycle
import UnixSignals

/// Runs the registered reload steps on every SIGHUP (reopen log files; more steps join as the service
/// grows). Installed before the service reports ready, so an early SIGHUP never kills the process.
public final class ReloadService: Service, Sendable {
    public typealias Step = @Sendable () async -> Void
    private let steps: MutexBox<[(String, Step)]>
    private let hooks: MutexBox<(before: [@Sendable () -> Void], after: [@Sendable () -> Void])>
    private let logger: Logger

    public init(logger: Logger) {
        self.steps = MutexBox([])
        self.hooks = MutexBox(([], []))
        self.logger = logger
    }

    /// Runs before the steps (RELOADING=1) and after them (READY=1).
    public func before(_ f: @escaping @Sendable () -> Void) { hooks.mutate { $0.before.append(f) } }
    public func after(_ f: @escaping @Sendable () -> Void) { hooks.mutate { $0.after.append(f) } }

    public func add(_ name: String, _ step: @escaping Step) { steps.mutate { $0.append((name, step)) } }

    /// Runs every step now (also what SIGHUP does).
    public func reload() async {
        for f in hooks.value.before { f() }
        for (_, step) in steps.value { await step() }
        for f in hooks.value.after { f() }
        logger.info("configuration reloaded", metadata: ["event": "reload", "steps": "\(steps.value.map(\.0).joined(separator: ","))"])
    }

    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await withGracefulShutdownHandler {
            for await _ in signals.cancelOnGracefulShutdown() {
                await reload()
            }
        } onGracefulShutdown: {}
    }
}
