import Synchronization

/// Runs an operation with a deadline that really returns: when it passes, the caller gets `Deadline.Exceeded`
/// at once and the operation is cancelled (it may finish later, unobserved). A task group would wait for a
/// child that ignores cancellation; this does not.
enum Deadline {
    struct Exceeded: Error, CustomStringConvertible {
        let seconds: Double
        var description: String { "no answer within \(seconds) s" }
    }

    @discardableResult
    static func run<T: Sendable>(
        seconds: Double, timer: DeadlineTimer = .shared, _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let call = Call<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                call.begin(continuation)
                // The deadline is registered before the work starts, so it is there whenever the work ends.
                call.setTimer(timer.schedule(after: seconds) { call.finish(.failure(Exceeded(seconds: seconds)), timer: timer) }, timer: timer)
                call.setBody(Task { call.finish(await Result(catching: operation), timer: timer) })
            }
        } onCancel: {
            call.finish(.failure(CancellationError()), timer: timer)
        }
    }

    /// One call's continuation, timer and work: whichever of the three ends first (the work, the deadline,
    /// the caller's cancellation) resumes the caller, once, and stops the other two.
    final class Call<T: Sendable>: Sendable {
        private struct State: Sendable {
            var continuation: CheckedContinuation<T, any Error>?
            var outcome: Result<T, any Error>?
            var timer: UInt64?
            var body: Task<Void, Never>?
            var done = false
        }

        private let state = Mutex(State())

        func begin(_ continuation: CheckedContinuation<T, any Error>) {
            let early = state.withLock { s -> Result<T, any Error>? in
                if s.done { return s.outcome }
                s.continuation = continuation
                return nil
            }
            if let early { continuation.resume(with: early) }
        }

        func setTimer(_ id: UInt64, timer: DeadlineTimer) {
            let done = state.withLock { s -> Bool in
                if !s.done { s.timer = id }
                return s.done
            }
            if done { timer.cancel(id) }
        }

        func setBody(_ task: Task<Void, Never>) {
            let done = state.withLock { s -> Bool in
                if !s.done { s.body = task }
                return s.done
            }
            if done { task.cancel() }
        }

        func finish(_ outcome: Result<T, any Error>, timer: DeadlineTimer) {
            let (k, id, body) = state.withLock { s -> (CheckedContinuation<T, any Error>?, UInt64?, Task<Void, Never>?) in
                guard !s.done else { return (nil, nil, nil) }
                s.done = true
                // Cancelled before the continuation existed: `begin` resumes with this.
                if s.continuation == nil { s.outcome = outcome }
                defer { s.continuation = nil; s.timer = nil; s.body = nil }
                return (s.continuation, s.timer, s.body)
            }
            if let id { timer.cancel(id) }
            body?.cancel()
            k?.resume(with: outcome)
        }
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
