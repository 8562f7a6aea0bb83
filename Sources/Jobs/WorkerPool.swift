import Foundation
import Simulation

/// Runs CPU-bound simulations on threads of their own, never on the Swift concurrency pool that serves HTTP,
/// with at most `width` at a time; callers beyond that wait without blocking a thread.
public final class WorkerPool: Sendable {
    public let width: Int
    private let gate: AsyncGate

    public init(width: Int) {
        self.width = max(1, width)
        self.gate = AsyncGate(permits: max(1, width))
    }

    /// Runs `work` on a thread of its own once a slot is free. Cancellation while waiting throws
    /// `CancellationError`; once started, `work` runs to its end (it polls its own cancellation flag).
    /// A dedicated thread, not a Dispatch worker: on Linux those also run Swift concurrency, and minutes of
    /// simulation there would starve the HTTP handlers (see `ParallelLoop`).
    public func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await gate.acquire()
        defer { gate.release() }
        return try await withCheckedThrowingContinuation { k in
            let thread = Thread {
                do { k.resume(returning: try work()) } catch { k.resume(throwing: error) }
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// Runs `compute` on a thread of its own once a slot is free; when it returns, the same thread, still
    /// holding the slot, encodes the document into `channel` as its reader takes the chunks. Returns once
    /// the document is ready to be sent (or `compute` threw): a response's encoding is charged to the same
    /// gate as its computation, and no document ever exists whole in memory.
    public func stream(
        into channel: ChunkChannel, chunkSize: Int = 64 << 10, _ compute: @escaping @Sendable () throws -> JSONStream
    ) async throws {
        try await gate.acquire()
        let gate = self.gate
        try await withCheckedThrowingContinuation { (k: CheckedContinuation<Void, any Error>) in
                let thread = Thread {
                    defer { gate.release() }
                    let document: JSONStream
                    do {
                        document = try compute()
                    } catch {
                        k.resume(throwing: error)
                        return
                    }
                    k.resume()
                    do {
                        try document.write(chunkSize: chunkSize) { (chunk: [UInt8]) throws(ChunkChannel.Failure) in try channel.send(chunk) }
                        channel.finish()
                    } catch {
                        channel.fail(error)
                    }
                }
                thread.stackSize = 8 << 20
                thread.start()
        }
    }

    public var busy: Int { gate.inUse }
    public var waiting: Int { gate.waiting }
}
