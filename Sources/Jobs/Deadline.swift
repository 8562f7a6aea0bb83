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
    static func run<T: Sendable>(seconds: Double, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        let once = Mutex<CheckedContinuation<T, any Error>?>(nil)
        let work = Mutex<[Task<Void, Never>]>([])
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                once.withLock { $0 = continuation }
                let finish: @Sendable (Result<T, any Error>) -> Void = { result in
                    guard let c = once.withLock({ s -> CheckedContinuation<T, any Error>? in defer { s = nil }; return s }) else { return }
                    c.resume(with: result)
                    for t in work.withLock({ $0 }) { t.cancel() }
                }
                let body = Task { finish(await Result(catching: operation)) }
                let timer = Task {
                    try? await Task.sleep(for: .seconds(seconds))
                    if !Task.isCancelled { finish(.failure(Exceeded(seconds: seconds))) }
                }
                work.withLock { $0 = [body, timer] }
            }
        } onCancel: {
            for t in work.withLock({ $0 }) { t.cancel() }
        }
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
