import Foundation
@testable import Jobs
import Simulation
import Testing

func request(_ horizon: Int = 6, seed: Int? = 1, agents: Int = 10, bucket: String = "Team", extra: String = "") throws -> ABMRequest {
    let seedField = seed.map { #", "seed": \#($0)"# } ?? ""
    let text = #"""
        {"token": {"name": "J", "total_supply": 1000000, "start_date": "2026-01-01", "horizon_months": \#(horizon)},
         "buckets": [{"bucket": "\#(bucket)", "allocation": 100, "tge_unlock_pct": 10, "cliff_months": 0, "vesting_months": 6}],
         "abm": {"agents_per_cohort": \#(agents)\#(seedField)}\#(extra)}
        """#
    return try ABMRequestDecoder.decode(bytes: Array(text.utf8)).get()
}

/// A fresh directory under the system's temporary folder, removed by the caller.
func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "abm-jobs-" + UUID().uuidString
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Runs `queue` as a service for the duration of `body`, then shuts it down gracefully.
func withRunningQueue<T: Sendable>(_ queue: JobQueue, _ body: () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await queue.run() }
        let value = try await body()
        group.cancelAll()
        try await group.waitForAll()
        return value
    }
}

/// Waits (polling, bounded) until `condition` holds.
func eventually(timeout: Duration = .seconds(20), _ condition: () async -> Bool) async -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return await condition()
}

extension JobQueue {
    /// The job, or nil when unknown or the store failed (tests that expect a failure ask `job` itself).
    func peek(_ id: String) async -> JobRecord? { (try? await job(id)) ?? nil }

    /// Statistics, with empty counts when the store failed.
    func peekStats() async -> Stats {
        (try? await stats()) ?? Stats(counts: JobCounts(), cacheSize: -1, maxConcurrentJobs: 0, maxQueuedJobs: 0)
    }
}
