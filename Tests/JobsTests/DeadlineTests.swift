import Foundation
import Synchronization
import Testing
@testable import Jobs

/// `Deadline.run` returns at its deadline even when the work never does, returns at once when its caller
/// is cancelled, and leaves nothing scheduled behind, under many concurrent calls.
@Suite struct DeadlineTests {
    @Test func returnsTheResultAndLeavesNoTimer() async throws {
        let timer = DeadlineTimer(resolution: .milliseconds(10))
        let v = try await Deadline.run(seconds: 5, timer: timer) { 42 }
        #expect(v == 42)
        #expect(timer.outstanding == 0)
        await #expect(throws: CancellationError.self) {
            try await Deadline.run(seconds: 5, timer: timer) { () async throws -> Int in throw CancellationError() }
        }
        #expect(timer.outstanding == 0)
    }

    @Test func workThatNeverReturnsIsAbandonedAtTheDeadline() async throws {
        let timer = DeadlineTimer(resolution: .milliseconds(10))
        let stuck = Mutex<CheckedContinuation<Void, Never>?>(nil)
        let start = ContinuousClock.now
        await #expect(throws: Deadline.Exceeded.self) {
            try await Deadline.run(seconds: 0.2, timer: timer) {
                // Ignores cancellation and never finishes on its own.
                await withCheckedContinuation { k in stuck.withLock { $0 = k } }
            }
        }
        // It returned, long before a second had passed (the bound is generous for a loaded machine).
        #expect(ContinuousClock.now - start < .seconds(30))
        #expect(timer.outstanding == 0)
        stuck.withLock { $0?.resume(); $0 = nil }
    }

    @Test func aCancelledCallerReturnsAtOnce() async throws {
        let timer = DeadlineTimer(resolution: .milliseconds(10))
        let started = Mutex(false)
        let call = Task {
            try await Deadline.run(seconds: 600, timer: timer) { () async throws -> Int in
                started.withLock { $0 = true }
                try await Task.sleep(for: .seconds(600))
                return 1
            }
        }
        while !started.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
        call.cancel()
        await #expect(throws: CancellationError.self) { try await call.value }
        #expect(timer.outstanding == 0)
    }

    @Test func concurrentCallsEachGetTheirOwnOutcome() async throws {
        let timer = DeadlineTimer(resolution: .milliseconds(10))
        let outcomes = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
            for i in 0..<400 {
                group.addTask {
                    do {
                        let v = try await Deadline.run(seconds: i % 4 == 0 ? 0.05 : 30, timer: timer) { () async throws -> Int in
                            if i % 4 == 0 { try? await Task.sleep(for: .seconds(30)) }
                            return i
                        }
                        return (v, true)
                    } catch is Deadline.Exceeded {
                        return (i, false)
                    }
                }
            }
            var all: [(Int, Bool)] = []
            for try await o in group { all.append(o) }
            return all
        }
        #expect(outcomes.count == 400)
        #expect(outcomes.allSatisfy { $0.1 == ($0.0 % 4 != 0) })
        #expect(timer.outstanding == 0)
    }
}
