import Foundation
import Simulation
import Synchronization

/// A one-line progress bar on standard error, redrawn at most every 100 ms.
final class ProgressBar: Sendable {
    private struct State {
        var lastDraw: ContinuousClock.Instant?
        var drawn = false
    }
    private let state = Mutex(State())
    private let clock = ContinuousClock()

    func handler(unit: String) -> ProgressHandler {
        { [self] done, total in
            draw(done, total, unit: unit)
            return true
        }
    }

    private func draw(_ done: Int, _ total: Int, unit: String) {
        let now = clock.now
        let shouldDraw = state.withLock { s -> Bool in
            if done < total, let last = s.lastDraw, now - last < .milliseconds(100) { return false }
            s.lastDraw = now
            s.drawn = true
            return true
        }
        guard shouldDraw, total > 0 else { return }
        let width = 30
        let filled = width * done / total
        let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
        try? FileHandle.standardError.write(contentsOf: Data("\r[\(bar)] \(100 * done / total)% \(unit) \(done)/\(total)".utf8))
    }

    func finish() {
        let drawn = state.withLock { s -> Bool in
            defer { s.drawn = false }
            return s.drawn
        }
        if drawn { try? FileHandle.standardError.write(contentsOf: Data("\n".utf8)) }
    }
}
