import Foundation
import Synchronization

/// Runs `body(i)` for every `i` in `0..<count` on dedicated threads, the caller's included, and returns when
/// all are done.
///
/// Not `DispatchQueue.concurrentPerform`: on Linux, Dispatch's worker threads are the same pool that runs
/// Swift concurrency, so a long simulation there can take every thread the HTTP handlers need and the whole
/// service stops answering (seen with a Monte Carlo job over a million agents). Threads made here are the
/// kernel's to schedule, like any other.
public enum ParallelLoop {
    final class Cursor: Sendable {
        let next = Atomic<Int>(0)
    }

    public static func run(_ count: Int, width: Int = ProcessInfo.processInfo.activeProcessorCount, _ body: @escaping @Sendable (Int) -> Void) {
        let width = max(1, min(width, count))
        if width == 1 {
            for i in 0..<count { body(i) }
            return
        }
        let cursor = Cursor()
        let loop = { @Sendable in
            while true {
                let i = cursor.next.add(1, ordering: .relaxed).oldValue
                if i >= count { return }
                body(i)
            }
        }
        let finished = DispatchSemaphore(value: 0)
        for _ in 1..<width {
            let t = Thread {
                loop()
                finished.signal()
            }
            t.stackSize = 8 << 20
            t.start()
        }
        loop()
        for _ in 1..<width { finished.wait() }
    }
}
