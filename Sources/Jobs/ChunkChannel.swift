import Foundation

/// A bounded hand-off of encoded chunks from a worker thread (which blocks while the channel is full) to an
/// async reader (which suspends while it is empty). A response body is never more than `capacity` chunks
/// ahead of its client: a client that reads slowly slows the encoder down, and one that stops reading for
/// `stallTimeout` ends the response, so the worker and its slot are freed.
public final class ChunkChannel: @unchecked Sendable {
    public enum Failure: Error, Equatable {
        /// The reader took nothing for `stallTimeout`.
        case stalled
        /// The reader went away (its client disconnected).
        case readerGone
    }

    private let condition = NSCondition()
    // Guarded by `condition`.
    private var chunks: [[UInt8]] = []
    private var finished = false
    private var failure: (any Error)?
    private var readerGone = false
    private var waiter: CheckedContinuation<[UInt8]?, any Error>?

    public let capacity: Int
    public let stallTimeout: Duration

    public init(capacity: Int = 4, stallTimeout: Duration) {
        self.capacity = max(1, capacity)
        self.stallTimeout = stallTimeout
    }

    // MARK: the producer (a worker thread)

    /// Hands over one chunk, blocking while `capacity` chunks wait. Throws `readerGone` once the reader
    /// has left, `stalled` after `stallTimeout` without room.
    public func send(_ chunk: [UInt8]) throws(Failure) {
        condition.lock()
        let deadline = Date(timeIntervalSinceNow: stallTimeout.seconds)
        while chunks.count >= capacity && !readerGone {
            if !condition.wait(until: deadline) && chunks.count >= capacity && !readerGone {
                condition.unlock()
                throw .stalled
            }
        }
        if readerGone {
            condition.unlock()
            throw .readerGone
        }
        if let k = waiter {
            waiter = nil
            condition.unlock()
            k.resume(returning: chunk)
            return
        }
        chunks.append(chunk)
        condition.unlock()
    }

    /// The last chunk was sent.
    public func finish() { end(nil) }

    /// The producer failed; the reader's next `next()` throws `error`.
    public func fail(_ error: any Error) { end(error) }

    private func end(_ error: (any Error)?) {
        condition.lock()
        finished = true
        failure = error
        let k = waiter
        waiter = nil
        condition.unlock()
        if let error { k?.resume(throwing: error) } else { k?.resume(returning: nil) }
    }

    // MARK: the reader (the response body writer)

    /// The next chunk, or nil after the last one.
    public func next() async throws -> [UInt8]? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (k: CheckedContinuation<[UInt8]?, any Error>) in
                condition.lock()
                if !chunks.isEmpty {
                    let chunk = chunks.removeFirst()
                    condition.signal()
                    condition.unlock()
                    k.resume(returning: chunk)
                } else if finished || readerGone {
                    let error = failure ?? (readerGone ? Failure.readerGone : nil)
                    condition.unlock()
                    if let error { k.resume(throwing: error) } else { k.resume(returning: nil) }
                } else {
                    waiter = k
                    condition.unlock()
                }
            }
        } onCancel: {
            cancel()
        }
    }

    /// The reader leaves: the producer's next `send` throws `readerGone`, and buffered chunks are dropped.
    public func cancel() {
        condition.lock()
        readerGone = true
        chunks.removeAll()
        let k = waiter
        waiter = nil
        condition.broadcast()
        condition.unlock()
        k?.resume(throwing: Failure.readerGone)
    }
}
