import Foundation
@testable import Jobs
import Simulation
import Synchronization
import Testing

/// Admission under real concurrency: the bounds hold when submissions interleave.
@Suite struct JobAdmissionTests {
    func config(concurrent: Int = 1, queued: Int = 2, perClient: Int = 0) -> JobQueueConfiguration {
        var c = JobQueueConfiguration()
        c.maxConcurrentJobs = concurrent
        c.maxQueuedJobs = queued
        c.maxQueuedJobsPerClient = perClient
        return c
    }

    func makeStore(_ kind: String, _ dir: String) -> any JobStore {
        kind == "sqlite" ? SQLiteJobStore(directory: dir) : InMemoryJobStore()
    }

    /// Submits `count` jobs at once; returns how many were accepted and how many refused as full.
    func burst(_ queue: JobQueue, count: Int, monteCarlo: Bool, client: String? = nil) async throws -> (accepted: Int, full: Int) {
        let abm = try request(12, seed: nil)
        let mc = try request(6, seed: nil, extra: #", "monte_carlo": {"num_trials": 10}"#)
        return await withTaskGroup(of: Result<JobQueue.Submission, JobQueueError>.self) { group in
            for _ in 0..<count {
                group.addTask {
                    do {
                        return .success(monteCarlo ? try await queue.submitMonteCarlo(mc, client: client) : try await queue.submitABM(abm, client: client))
                    } catch let e as JobQueueError {
                        return .failure(e)
                    } catch {
                        return .failure(.storeUnavailable("\(error)"))
                    }
                }
            }
            var accepted = 0
            var full = 0
            for await r in group {
                switch r {
                case .success: accepted += 1
                case .failure(.queueFull), .failure(.clientQuotaFull): full += 1
                case .failure: break
                }
            }
            return (accepted, full)
        }
    }

    @Test(arguments: ["sqlite", "memory"], [false, true])
    func concurrentSubmissionsHoldTheQueueBound(store kind: String, monteCarlo: Bool) async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var c = config(concurrent: 1, queued: 2)
        let gate = Gate()
        c.progressHook = { _, month in if month == 1 { gate.wait() } }
        let queue = JobQueue(store: makeStore(kind, dir), configuration: c)
        try await withRunningQueue(queue) {
            // One job holds the only worker, so nothing leaves the queue during the burst.
            let held = try await queue.submitABM(try request(24, seed: nil))
            #expect(await eventually { await queue.peek(held.job.id)?.status == .running })
            let (accepted, full) = try await burst(queue, count: 8, monteCarlo: monteCarlo)
            #expect(accepted == 2 && full == 6)
            #expect(await queue.peekStats().counts[.pending] == 2)
            gate.open()
        }
    }

    @Test func aCachedSubmissionIsRefusedWhenTheQueueIsFull() async throws {
        let store = InMemoryJobStore()
        let queue = JobQueue(store: store, configuration: config(concurrent: 1, queued: 1))
        let seeded = try request(6, seed: 77)
        try await withRunningQueue(queue) {
            let first = try await queue.submitABM(seeded)
            #expect(await eventually { await queue.peek(first.job.id)?.status == .completed })
            #expect(try await queue.submitABM(seeded).cached)
        }
        // A second process on the store, not running jobs: fill the queue, then the same seeded request is
        // refused, not answered from the cache.
        let idle = JobQueue(store: store, configuration: config(concurrent: 1, queued: 1))
        _ = try await idle.submitABM(try request(6, seed: nil))
        await #expect(throws: JobQueueError.queueFull(running: 0, queued: 1, maxQueued: 1, retryAfterSeconds: 5)) {
            try await idle.submitABM(seeded)
        }
    }

    @Test(arguments: ["sqlite", "memory"])
    func oneClientOverItsQuotaDoesNotLockOthersOut(store kind: String) async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Not running: every accepted job stays pending.
        let queue = JobQueue(store: makeStore(kind, dir), configuration: config(queued: 10, perClient: 3))
        let (accepted, refused) = try await burst(queue, count: 10, monteCarlo: false, client: "10.0.0.1")
        #expect(accepted == 3 && refused == 7)
        await #expect(throws: JobQueueError.clientQuotaFull(queued: 3, maxPerClient: 3, retryAfterSeconds: 5)) {
            try await queue.submitMonteCarlo(try request(6, seed: nil, extra: #", "monte_carlo": {"num_trials": 10}"#), client: "10.0.0.1")
        }
        let other = try await queue.submitABM(try request(6, seed: nil), client: "10.0.0.2")
        #expect(other.job.status == .pending)
        #expect(await queue.peekStats().counts[.pending] == 4)
    }

    @Test func aFullDiskRefusesSubmissionsBeforeAnyWork() async throws {
        let low = Atomic(true)
        var c = config(queued: 10)
        c.admissionCheck = { low.load(ordering: .relaxed) ? "1024 bytes free, below the 4096 required" : nil }
        let queue = JobQueue(store: InMemoryJobStore(), configuration: c)
        await #expect(throws: JobQueueError.insufficientStorage("1024 bytes free, below the 4096 required")) {
            try await queue.submitABM(try request(6, seed: 1))
        }
        #expect(await queue.peekStats().counts.total == 0)
        low.store(false, ordering: .relaxed)
        #expect(try await queue.submitABM(try request(6, seed: 1)).job.status == .pending)
    }
}
