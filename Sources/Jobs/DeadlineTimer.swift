import Synchronization

/// One timer for every outstanding deadline of the process (`Deadline.run`): a store call registers its
/// deadline here instead of starting a sleeping task of its own. A task per call cost a dispatch timer and
/// a task allocation on every database round trip (a tenth of the CPU per job in the cluster benchmark),
/// and a call that finished before its timer was recorded left that timer sleeping for the whole deadline.
/// The loop wakes every `resolution` while deadlines are outstanding and stops when none is.
final class DeadlineTimer: Sendable {
    static let shared = DeadlineTimer(resolution: .milliseconds(100))

    private struct Entry: Sendable {
        let due: ContinuousClock.Instant
        let fire: Callback<Void>
    }

    private struct State: Sendable {
        var nextID: UInt64 = 0
        var entries: [UInt64: Entry] = [:]
        var looping = false
    }

    private let state = Mutex(State())
    let resolution: Duration

    init(resolution: Duration) {
        self.resolution = resolution
    }

    /// Calls `fire` once `seconds` have passed (within `resolution`), unless `cancel` comes first.
    func schedule(after seconds: Double, _ fire: @escaping @Sendable () -> Void) -> UInt64 {
        let due = ContinuousClock.now + .seconds(seconds)
        let (id, start) = state.withLock { s -> (UInt64, Bool) in
            s.nextID += 1
            s.entries[s.nextID] = Entry(due: due, fire: Callback { _ in fire() })
            defer { s.looping = true }
            return (s.nextID, !s.looping)
        }
        if start { Task.detached { await self.loop() } }
        return id
    }

    func cancel(_ id: UInt64) {
        _ = state.withLock { $0.entries.removeValue(forKey: id) }
    }

    var outstanding: Int { state.withLock { $0.entries.count } }

    private func loop() async {
        while true {
            try? await Task.sleep(for: resolution)
            let now = ContinuousClock.now
            let due = state.withLock { s -> [Callback<Void>]? in
                let fired = s.entries.filter { $0.value.due <= now }
                for id in fired.keys { s.entries[id] = nil }
                if s.entries.isEmpty {
                    s.looping = false
                    return fired.isEmpty ? nil : fired.values.map(\.fire)
                }
                return fired.values.map(\.fire)
            }
            for f in due ?? [] { f.call(()) }
            if state.withLock({ !$0.looping }) { return }
        }
    }
}
