import Synchronization

/// A counting semaphore for async code: `acquire` suspends (never blocks a thread) until a permit is free.
public final class AsyncGate: Sendable {
    private struct State {
        var available: Int
        var inUse = 0
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
        var nextID: UInt64 = 0
    }
    private let state: Mutex<State>

    public init(permits: Int) { state = Mutex(State(available: permits)) }

    public func acquire() async throws {
        let id = state.withLock { s -> UInt64 in
            s.nextID += 1
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (k: CheckedContinuation<Void, any Error>) in
                // Checked under the lock that `onCancel` takes: a cancellation that came before the waiter
                // was listed is seen here, one that comes after finds the waiter.
                let outcome = state.withLock { s -> Bool? in
                    if Task.isCancelled { return nil }
                    if s.available > 0 {
                        s.available -= 1
                        s.inUse += 1
                        return true
                    }
                    s.waiters.append((id, k))
                    return false
                }
                switch outcome {
                case nil: k.resume(throwing: CancellationError())
                case true?: k.resume()
                case false?: break
                }
            }
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<Void, any Error>? in
                guard let i = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return s.waiters.remove(at: i).continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    public func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, any Error>? in
            if !s.waiters.isEmpty { return s.waiters.removeFirst().continuation }
            s.available += 1
            s.inUse -= 1
            return nil
        }
        next?.resume()
    }

    public var inUse: Int { state.withLock { $0.inUse } }
    public var waiting: Int { state.withLock { $0.waiters.count } }
}
