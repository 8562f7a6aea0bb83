import Hummingbird
import Jobs
import NIOCore
import ServiceLifecycle
import Simulation
import Synchronization
import Dispatch

/// Runs one synchronous simulation for its request and streams the body.
///
/// The work runs on a `WorkerPool` thread (at most `ABM_MAX_SYNC_SIMULATIONS` at once), and the same thread,
/// still holding its slot, encodes the result chunk by chunk as the client reads it. The work polls
/// `isCancelled` every month or trial; it answers true once the client has disconnected, the handler's task
/// is cancelled, or a shutdown has run out of patience: once the service shuts down, a request has
/// `shutdownGrace` to get a slot and finish its simulation (short runs answer 200 as usual); one still
/// waiting or computing then is stopped with a 503, so the process always exits within
/// ABM_SHUTDOWN_TIMEOUT_SECONDS. Encoding and sending a finished result is never cut short.
struct SyncRunner: Sendable {
    let pool: WorkerPool
    /// A reader that takes no chunk for this long ends its response (ABM_WRITE_TIMEOUT_SECONDS).
    let stallTimeout: Duration
    /// How long a running simulation may go on once shutdown begins (a quarter of the shutdown timeout).
    let shutdownGrace: Duration

    /// waiting -> running, or waiting -> stopped; a shutdown of a running one sets a deadline instead.
    final class RunState: Sendable {
        static let waiting = 0, running = 1, stopped = 2
        private let phase = Atomic(RunState.waiting)
        private let deadline = Atomic<Int64>(.max)

        /// Called by the work as it starts; false when a shutdown stopped it first.
        func start() -> Bool { phase.compareExchange(expected: Self.waiting, desired: Self.running, ordering: .acquiringAndReleasing).exchanged }

        /// From now, the work has `grace` to start and finish.
        func shutdown(grace: Duration) {
            let nanos = grace.components.seconds * 1_000_000_000 + grace.components.attoseconds / 1_000_000_000
            deadline.store(Self.now() &+ nanos, ordering: .releasing)
        }

        /// At the deadline: work that never got a slot is stopped (true: cancel its wait).
        func stopIfWaiting() -> Bool {
            phase.compareExchange(expected: Self.waiting, desired: Self.stopped, ordering: .acquiringAndReleasing).exchanged
        }

        func stop() { phase.store(Self.stopped, ordering: .releasing) }

        var isStopped: Bool {
            phase.load(ordering: .acquiring) == Self.stopped || Self.now() >= deadline.load(ordering: .acquiring)
        }

        static func now() -> Int64 { Int64(DispatchTime.now().uptimeNanoseconds) }
    }

    func respond(
        _ context: ABMRequestContext,
        _ compute: @escaping @Sendable (_ isCancelled: @escaping @Sendable () -> Bool) throws -> JSONStream
    ) async throws -> Response {
        let state = RunState()
        let connection = context.connection
        // A connection that was never active is a test harness's stand-in, not a client that left.
        let watched = connection.isActive
        let isCancelled: @Sendable () -> Bool = { state.isStopped || (watched && !connection.isActive) }
        let channel = ChunkChannel(stallTimeout: stallTimeout)
        let pool = self.pool
        let grace = shutdownGrace
        // Its own task, so a shutdown also ends a wait for a free slot.
        let work = Task {
            try await pool.stream(into: channel) {
                guard state.start(), !isCancelled() else { throw SimulationError.cancelled }
                return try compute(isCancelled)
            }
        }
        let shutdown = Atomic(false)
        do {
            try await withTaskCancellationHandler {
                try await withGracefulShutdownHandler {
                    try await work.value
                } onGracefulShutdown: {
                    shutdown.store(true, ordering: .releasing)
                    state.shutdown(grace: grace)
                    Task {
                        try? await Task.sleep(for: grace)
                        if state.stopIfWaiting() { work.cancel() }
                    }
                }
            } onCancel: {
                shutdown.store(true, ordering: .releasing)
                state.stop()
                work.cancel()
            }
        } catch SimulationError.cancelled {
            throw shutdown.load(ordering: .acquiring) ? APIError.shuttingDown : APIError.clientClosedRequest
        } catch is CancellationError {
            throw shutdown.load(ordering: .acquiring) ? APIError.shuttingDown : APIError.clientClosedRequest
        } catch SimulationError.overflow {
            throw APIError.overflow
        }
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody { writer in
                do {
                    while let chunk = try await channel.next() { try await writer.write(ByteBuffer(bytes: chunk)) }
                } catch {
                    channel.cancel()
                    throw error
                }
                try await writer.finish(nil)
            })
    }
}
