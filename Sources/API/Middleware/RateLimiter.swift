import Synchronization

/// Fixed-window request counting per (client, scope), over an injected clock so it is tested without
/// sleeping. State is bounded: expired windows are dropped whenever the table grows past `maxKeys`.
public final class RateLimiter: Sendable {
    public struct Decision: Sendable, Equatable {
        public var allowed: Bool
        public var limit: Int
        public var remaining: Int
        /// Seconds until the window resets.
        public var resetSeconds: Int
    }

    private struct Window {
        var start: Int64
        var count: Int
    }
    private let windows = Mutex<[String: Window]>([:])
    private let maxKeys: Int
    private let now: @Sendable () -> Int64

    /// `now` returns whole seconds on any monotonic or wall clock.
    public init(maxKeys: Int = 50_000, now: @escaping @Sendable () -> Int64) {
        self.maxKeys = maxKeys
        self.now = now
    }

    public func check(key: String, limit: RateLimit) -> Decision {
        let t = now()
        let length = Int64(limit.window.seconds)
        return windows.withLock { w in
            var window = w[key] ?? Window(start: t, count: 0)
            if t - window.start >= length { window = Window(start: t, count: 0) }
            let reset = Int(max(1, window.start + length - t))
            guard window.count < limit.count else {
                w[key] = window
                return Decision(allowed: false, limit: limit.count, remaining: 0, resetSeconds: reset)
            }
            window.count += 1
            w[key] = window
            if w.count > maxKeys {
                w = w.filter { t - $0.value.start < 86_400 && t - $0.value.start < length * 2 }
            }
            return Decision(allowed: true, limit: limit.count, remaining: limit.count - window.count, resetSeconds: reset)
        }
    }

    public var trackedKeys: Int { windows.withLock { $0.count } }
}
