import Dispatch

/// Runs blocking work (waiting for a child process, reading its pipes) on a Dispatch thread, so tests that
/// drive real processes do not hold the Swift concurrency pool that every other test shares.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { k in
        DispatchQueue.global().async {
            do { k.resume(returning: try body()) } catch { k.resume(throwing: error) }
        }
    }
}
