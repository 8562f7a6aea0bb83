import Synchronization

/// Fixed-window request counting per (client, scope), over an injected clock so it is tested without
/// sleeping. State is bounded (see `init`).
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
        /// The window's length in seconds: past `start + length` it has expired.
        var length: Int64
    }
    private struct State {
        var windows: [String: Window] = [:]
        var lastSweep: Int64 = .min
    }
    private let state = Mutex(State())
    private let maxKeys: Int
    private let now: @Sendable () -> Int64

    /// `now` returns whole seconds on any monotonic or wall clock. The table holds at most about `maxKeys`
    /// windows: past that, expired windows are swept (at most once a second, so a flood of new keys cannot
    /// make every call walk the table), and if live windows alone exceed twice the bound, the oldest go.
    public init(maxKeys: Int = 50_000, now: @escaping @Sendable () -> Int64) {
        self.maxKeys = maxKeys
        self.now = now
    }

    public func check(key: String, limit: RateLimit) -> Decision { check([(key, limit)])[0] }

    /// Checks every (key, limit) and charges them all only if all allow the request: a request refused by one
    /// limit is not counted against the others.
    public func check(_ checks: [(key: String, limit: RateLimit)]) -> [Decision] {
        let t = now()
        return state.withLock { s in
            var windows: [Window] = []
            var decisions: [Decision] = []
            for (key, limit) in checks {
                let length = Int64(limit.window.seconds)
                var w = s.windows[key] ?? Window(start: t, count: 0, length: length)
                if t - w.start >= length { w = Window(start: t, count: 0, length: length) }
                windows.append(w)
                let reset = Int(max(1, w.start + length - t))
                decisions.append(
                    Decision(allowed: w.count < limit.count, limit: limit.count, remaining: max(0, limit.count - w.count), resetSeconds: reset))
            }
            let allowed = decisions.allSatisfy(\.allowed)
            for (i, (key, _)) in checks.enumerated() {
                var w = windows[i]
                if allowed {
                    w.count += 1
                    decisions[i].remaining -= 1
                } else {
                    decisions[i].remaining = decisions[i].allowed ? decisions[i].remaining : 0
                }
                decisions[i].allowed = allowed
                s.windows[key] = w
            }
            if s.windows.count > maxKeys { sweep(&s, now: t) }
            return decisions
        }
    }

    private func sweep(_ s: inout State, now t: Int64) {
        let hardCap = 2 * maxKeys
        guard t > s.lastSweep || s.windows.count > hardCap else { return }
        s.lastSweep = t
        s.windows = s.windows.filter { t - $0.value.start < $0.value.length }
        if s.windows.count > hardCap {
            let oldest = s.windows.sorted { $0.value.start < $1.value.start }.prefix(s.windows.count - maxKeys)
            for (key, _) in oldest { s.windows[key] = nil }
        }
    }

    public var trackedKeys: Int { state.withLock { $0.windows.count } }
}
