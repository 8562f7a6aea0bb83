import Hummingbird
import Jobs
import NIOCore
import ServiceLifecycle
import Simulation
import Synchronization

/// Runs one synchronous simulation for its request and streams the body.
///
/// The work runs on a `WorkerPool` thread (at most `ABM_MAX_SYNC_SIMULATIONS` at once), and the same thread,
/// still holding its slot, encodes the result chunk by chunk as the client reads it. The work polls
/// `isCancelled` every month or trial: it answers true once the client has disconnected, the service is
/// shutting down (the request then gets a 503) or the handler's task is cancelled.
struct SyncRunner: Sendable {
    let pool: WorkerPool
    /// A reader that takes no chunk for this long ends its response (ABM_WRITE_TIMEOUT_SECONDS).
    let stallTimeout: Duration

    final class StopFlag: Sendable {
        private let stopped = Atomic(false)
        func set() { stopped.store(true, ordering: .releasing) }
        var isSet: Bool { stopped.load(ordering: .acquiring) }
    }

    func respond(
        _ context: ABMRequestContext,
        _ compute: @escaping @Sendable (_ isCancelled: @escaping @Sendable () -> Bool) throws -> JSONStream
    ) async throws -> Response {
        let stop = StopFlag()
        let connection = context.connection
        // A connection that was never active is a test harness's stand-in, not a client that left.
        let watched = connection.isActive
        let isCancelled: @Sendable () -> Bool = { stop.isSet || (watched && !connection.isActive) }
        let channel = ChunkChannel(stallTimeout: stallTimeout)
        let pool = self.pool
        // Its own task, so a shutdown also ends a wait for a free slot.
        let work = Task {
            try await pool.stream(into: channel) {
                if isCancelled() { throw SimulationError.cancelled }
                return try compute(isCancelled)
            }
        }
        do {
            try await withTaskCancellationHandler {
                try await withGracefulShutdownHandler {
                    try await work.value
                } onGracefulShutdown: {
                    stop.set()
                    work.cancel()
                }
            } onCancel: {
                stop.set()
                work.cancel()
            }
        } catch SimulationError.cancelled {
            throw stop.isSet ? APIError.shuttingDown : APIError.clientClosedRequest
        } catch is CancellationError {
            throw stop.isSet ? APIError.shuttingDown : APIError.clientClosedRequest
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
