import Foundation
@testable import Jobs
import Simulation
import Synchronization
import Testing

/// Recovery, leases and status writes that fail.
@Suite struct JobRecoveryTests {
    static let t0 = Date(timeIntervalSince1970: 1_000_000)

    /// Leaves `count` jobs `running` in the store, as a process killed mid-run would.
    func crashedProcess(_ store: any JobStore, count: Int) async throws -> [String] {
        let queue = JobQueue(store: store)
        var ids: [String] = []
        for i in 0..<count { ids.append(try await queue.submitABM(try request(12, seed: 500 + i)).job.id) }
        for _ in 0..<count { _ = try #require(try await store.claim(owner: "dead", leaseSeconds: 30, now: Date())) }
        return ids
    }

    @Test func recoveryRacingReadinessRunsEachJobOnce() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ids = try await crashedProcess(SQLiteJobStore(directory: dir), count: 3)
        let starts = Mutex<[String: Int]>([:])
        var c = JobQueueConfiguration()
        c.maxConcurrentJobs = 3
        c.progressHook = { id, month in if month == 1 { starts.withLock { $0[id, default: 0] += 1 } } }
        let queue = JobQueue(store: SQLiteJobStore(directory: dir), configuration: c)
        try await withRunningQueue(queue) {
            // Readiness probes and the status line ask for recovery while the service starts it.
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<10 {
                    group.addTask { _ = await queue.readiness() }
                    group.addTask { _ = await queue.recover() }
                }
            }
            for id in ids { #expect(await eventually { await queue.peek(id)?.status == .completed }) }
        }
        for id in ids {
            let job = try #require(try await SQLiteJobStore(directory: dir).job(id))
            #expect(job.rescues == 1 && job.attempts == 2, "\(id) was requeued \(job.rescues) times")
        }
        #expect(starts.withLock { $0 } == Dictionary(uniqueKeysWithValues: ids.map { ($0, 1) }))
        #expect(try await SQLiteJobStore(directory: dir).counts().jobs == JobCounts(byStatus: [.completed: 3]))
    }

    /// The store is locked at boot; nothing probes readiness; the jobs still start once it opens.
    @Test func recoveryThatSucceedsLateStartsTheRecoveredJobs() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ids = try await crashedProcess(SQLiteJobStore(directory: dir), count: 2)
        let store = FaultyStore(SQLiteJobStore(directory: dir))
        store.failNext(.migrate, times: 2)
        let queue = JobQueue(store: store)
        try await withRunningQueue(queue) {
            for id in ids { #expect(await eventually { await queue.peek(id)?.status == .completed }) }
        }
        #expect(store.callCount(.migrate) >= 3)
        #expect(store.callCount(.requeue) == 1)
    }

    /// The cancel reached the store, the run's final write did not: after a restart the job is cancelled,
    /// not run again.
    @Test func aFailedCancelWriteDoesNotResurrectTheJob() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = FaultyStore(SQLiteJobStore(directory: dir))
        store.failNext(.cancelled)
        let gate = Gate()
        var c = JobQueueConfiguration()
        c.progressHook = { _, month in if month == 3 { gate.wait() } }
        let queue = JobQueue(store: store, configuration: c)
        let id = try await withRunningQueue(queue) {
            let s = try await queue.submitABM(try request(240, seed: 3))
            #expect(await eventually { await queue.peek(s.job.id)?.currentMonth == 3 })
            try await queue.cancel(s.job.id)
            gate.open()
            #expect(await eventually { await queue.runningCount == 0 })
            return s.job.id
        }
        #expect(store.callCount(.cancelled) == 3)
        #expect(try await SQLiteJobStore(directory: dir).job(id)?.status == .running)
        let restarted = JobQueue(store: SQLiteJobStore(directory: dir))
        try await withRunningQueue(restarted) {
            #expect(await eventually { await restarted.peek(id)?.status == .cancelled })
            try await Task.sleep(for: .milliseconds(300))
        }
        let job = try #require(try await SQLiteJobStore(directory: dir).job(id))
        #expect(job.status == .cancelled && job.attempts == 1)
    }

    /// Another instance took the job over (its lease expired, a rescue requeued it, someone claimed it):
    /// the first run stops at its next renewal and writes nothing.
    @Test func aRunWhoseLeaseWasTakenOverWritesNothing() async throws {
        let store = InMemoryJobStore()
        let gate = Gate()
        var c = JobQueueConfiguration()
        c.leaseSeconds = 0.3
        c.progressHook = { _, month in if month == 2 { gate.wait() } }
        let queue = JobQueue(store: store, configuration: c)
        try await withRunningQueue(queue) {
            let s = try await queue.submitABM(try request(24, seed: 8))
            #expect(await eventually { await queue.peek(s.job.id)?.currentMonth == 2 })
            let rescue = try await store.requeueAbandoned(leaseExpiredBefore: Date().addingTimeInterval(60), maxRescues: 5, now: Date())
            #expect(rescue == Rescue(requeued: 1))
            let other = try #require(try await store.claim(owner: "other-instance", leaseSeconds: 60, now: Date()))
            // Past a renewal (every lease/3 = 0.1 s): the run learns its lease is gone while still held.
            try await Task.sleep(for: .milliseconds(500))
            gate.open()
            #expect(await eventually { await queue.runningCount == 0 })
            let job = try #require(try await store.job(s.job.id))
            #expect(job.status == .running && job.attempts == 2)
            #expect(try await store.resultInfo(s.job.id) == nil)
            // The new owner's writes go through.
            #expect(try await store.complete(other.lease, result: [1], cacheKey: nil, cacheMaxEntries: 0, now: Date()))
        }
    }
}
