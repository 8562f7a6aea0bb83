import Foundation
@testable import Jobs
import Simulation
import Synchronization
import Testing
import Dispatch

@Suite struct JobQueueTests {
    func config(concurrent: Int = 2, queued: Int = 100) -> JobQueueConfiguration {
        var c = JobQueueConfiguration()
        c.maxConcurrentJobs = concurrent
        c.maxQueuedJobs = queued
        return c
    }

    func waitForTerminal(_ queue: JobQueue, _ id: String) async -> JobRecord? {
        _ = await eventually { await queue.peek(id)?.status.isTerminal == true }
        return await queue.peek(id)
    }

    @Test func jobRunsToTheSameResultAsASyncRun() async throws {
        let queue = JobQueue(store: InMemoryJobStore(), configuration: config())
        let req = try request(12, seed: 5)
        try await withRunningQueue(queue) {
            let s = try await queue.submitABM(req)
            #expect(s.job.id.hasPrefix("abm_") && s.job.id.count == 16)
            let done = await waitForTerminal(queue, s.job.id)
            #expect(done?.status == .completed)
            #expect(done?.progressPct == 100)
            let body = try #require(try await queue.result(s.job.id))
            var stored = try JSONParser.parse(body)
            var direct = try ABMSimulation.run(req).json()
            // Only the measured time may differ.
            stored = strip(stored)
            direct = strip(direct)
            #expect(stored == direct)
        }
    }

    func strip(_ v: JSONValue) -> JSONValue {
        guard case .object(var o) = v else { return v }
        o["execution_time_seconds"] = nil
        return .object(o)
    }

    @Test func unseededJobsGetAStoredSeed() async throws {
        let store = InMemoryJobStore()
        let queue = JobQueue(store: store, configuration: config())
        let s = try await queue.submitABM(try request(seed: nil))
        #expect(s.job.cacheKey == nil)
        let stored = try #require(try await store.job(s.job.id))
        #expect(stored.seed == s.job.seed)
    }

    @Test func seededResubmissionIsACacheHit() async throws {
        let queue = JobQueue(store: InMemoryJobStore(), configuration: config())
        try await withRunningQueue(queue) {
            let first = try await queue.submitABM(try request(seed: 9))
            _ = await waitForTerminal(queue, first.job.id)
            let second = try await queue.submitABM(try request(seed: 9))
            #expect(second.cached)
            #expect(second.job.id.hasPrefix("cached_"))
            #expect(await queue.peek(second.job.id)?.status == .completed)
            #expect(try await queue.result(second.job.id) == (try await queue.result(first.job.id)))
            // D25: unseeded requests are never cached.
            let unseeded = try await queue.submitABM(try request(seed: nil))
            #expect(!unseeded.cached)
            #expect(await queue.peekStats().cacheSize == 1)
        }
    }

    @Test func queueBoundAnswersFull() async throws {
        // Not running: nothing leaves the queue.
        let queue = JobQueue(store: InMemoryJobStore(), configuration: config(concurrent: 1, queued: 3))
        for i in 0..<3 { _ = try await queue.submitABM(try request(seed: i + 100)) }
        await #expect(throws: JobQueueError.queueFull(running: 0, queued: 3, maxQueued: 3, retryAfterSeconds: 5)) {
            try await queue.submitABM(try request(seed: 999))
        }
        #expect(await queue.peekStats().counts[.pending] == 3)
    }

    @Test func concurrencyIsBounded() async throws {
        let queue = JobQueue(store: InMemoryJobStore(), configuration: config(concurrent: 2))
        try await withRunningQueue(queue) {
            var ids: [String] = []
            for i in 0..<6 { ids.append(try await queue.submitABM(try request(60, seed: i, agents: 1000)).job.id) }
            var maxRunning = 0
            _ = await eventually {
                let s = await queue.peekStats()
                maxRunning = max(maxRunning, s.counts[.running])
                return s.counts[.completed] == 6
            }
            #expect(maxRunning <= 2)
            #expect(await queue.peekStats().counts[.completed] == 6)
            // The hub keeps running jobs and open streams only: nothing once all are done.
            #expect(await eventually { queue.hub.entryCount == 0 })
        }
    }

    @Test func cancelsQueuedAndRunningJobs() async throws {
        var c = config(concurrent: 1)
        let gate = Gate()
        // Every job pauses after month 3 until the test opens the gate.
        c.progressHook = { _, month in if month == 3 { gate.wait() } }
        let queue = JobQueue(store: InMemoryJobStore(), configuration: c)
        try await withRunningQueue(queue) {
            let long = try await queue.submitABM(try request(240, seed: 1))
            let queued = try await queue.submitABM(try request(12, seed: 2))
            try await queue.cancel(queued.job.id)
            #expect(await queue.peek(queued.job.id)?.status == .cancelled)
            #expect(await eventually { await queue.peek(long.job.id)?.currentMonth == 3 })
            #expect(await queue.peek(long.job.id)?.status == .running)
            try await queue.cancel(long.job.id)
            gate.open()
            let done = await waitForTerminal(queue, long.job.id)
            #expect(done?.status == .cancelled)
            #expect(done?.currentMonth == 3)
            await #expect(throws: JobQueueError.notCancellable(queued.job.id)) { try await queue.cancel(queued.job.id) }
            await #expect(throws: JobQueueError.notFound("nope")) { try await queue.cancel("nope") }
        }
    }

    @Test func progressIsPushedToSubscribers() async throws {
        let queue = JobQueue(store: InMemoryJobStore(), configuration: config())
        try await withRunningQueue(queue) {
            let s = try await queue.submitABM(try request(24, seed: 3, agents: 200))
            var seen: [JobSnapshot] = []
            for await snap in queue.hub.subscribe(s.job.id) { seen.append(snap) }
            let last = try #require(seen.last)
            #expect(last.status == .completed)
            #expect(last.currentMonth == 24)
            let ids = seen.map(\.eventID)
            #expect(ids == ids.sorted())
        }
    }

    @Test func monteCarloJobsCountTrials() async throws {
        let queue = JobQueue(store: InMemoryJobStore(), configuration: config())
        let req = try request(6, seed: 1, extra: #", "monte_carlo": {"num_trials": 10, "seed": 0}"#)
        try await withRunningQueue(queue) {
            let s = try await queue.submitMonteCarlo(req)
            #expect(s.job.id.hasPrefix("mc_"))
            #expect(s.job.totalMonths == 10)
            #expect(s.job.seed == 0)
            let done = await waitForTerminal(queue, s.job.id)
            #expect(done?.status == .completed && done?.currentMonth == 10)
            let body = try JSONParser.parse(try #require(try await queue.result(s.job.id)))
            #expect(body["trials"]?.arrayValue?.count == 10)
        }
    }

    @Test func sweepDeletesExpiredTerminalJobs() async throws {
        let clock = Mutex(Date(timeIntervalSince1970: 1_000_000))
        var c = config()
        c.jobTTL = 3600
        let queue = JobQueue(store: InMemoryJobStore(), configuration: c, now: { clock.withLock { $0 } })
        try await withRunningQueue(queue) {
            let s = try await queue.submitABM(try request(seed: 11))
            let queued = try await queue.submitABM(try request(seed: 12))
            try? await queue.cancel(queued.job.id)
            _ = await waitForTerminal(queue, s.job.id)
            clock.withLock { $0 = $0.addingTimeInterval(1800) }
            #expect(await queue.sweep() == 0)
            clock.withLock { $0 = $0.addingTimeInterval(3600) }
            #expect(await queue.sweep() == 2)
            #expect(await queue.peek(s.job.id) == nil)
            #expect(await queue.peek(queued.job.id) == nil)
            // The cache entry outlives its job until the cache's own age passes (it keeps the result alive).
            #expect(await queue.peekStats().cacheSize == 1)
            clock.withLock { $0 = $0.addingTimeInterval(2 * 3600) }
            _ = await queue.sweep()
            #expect(await queue.peekStats().cacheSize == 0)
        }
    }
}

/// A one-shot gate a worker thread can wait on.
final class Gate: Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    private let opened = Atomic(false)
    func wait() { if !opened.load(ordering: .acquiring) { semaphore.wait(); semaphore.signal() } }
    func open() {
        opened.store(true, ordering: .releasing)
        semaphore.signal()
    }
}

@Suite struct DurabilityTests {
    @Test func jobsSurviveAnAbruptStopAndGiveTheSameResults() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var c = JobQueueConfiguration()
        c.maxConcurrentJobs = 1
        // First application: accepts jobs but is stopped before running them (never started).
        let first = JobQueue(store: SQLiteJobStore(directory: dir), configuration: c)
        var submitted: [(String, ABMRequest)] = []
        for seed in [nil, 21, 22] as [Int?] {
            let r = try request(18, seed: seed, agents: 50)
            submitted.append((try await first.submitABM(r).job.id, r))
        }
        let mc = try request(6, seed: 1, extra: #", "monte_carlo": {"num_trials": 10, "seed": 4}"#)
        let mcID = try await first.submitMonteCarlo(mc).job.id
        // Second application on the same data directory.
        let second = JobQueue(store: SQLiteJobStore(directory: dir), configuration: c)
        try await withRunningQueue(second) {
            for (id, r) in submitted {
                _ = await eventually { await second.peek(id)?.status == .completed }
                let stored = try #require(await second.peek(id))
                #expect(stored.status == .completed)
                var replay = r
                replay.abm.seed = stored.seed
                let expected = try ABMSimulation.run(replay).json()
                let body = try JSONParser.parse(try #require(try await second.result(id)))
                #expect(strip(body) == strip(expected))
            }
            _ = await eventually { await second.peek(mcID)?.status == .completed }
            let mcBody = try JSONParser.parse(try #require(try await second.result(mcID)))
            let mcExpected = try MonteCarloEngine.run(mc, settings: mc.monteCarlo!, seed: 4).json()
            #expect(strip(mcBody) == strip(mcExpected))
        }
    }

    @Test func interruptedJobsResumeAfterShutdown() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var c = JobQueueConfiguration()
        c.maxConcurrentJobs = 1
        let gate = Gate()
        var held = c
        held.progressHook = { _, month in if month == 5 { gate.wait() } }
        let first = JobQueue(store: SQLiteJobStore(directory: dir), configuration: held)
        let r = try request(240, seed: 31, agents: 100)
        let id = try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await first.run() }
            let id = try await first.submitABM(r).job.id
            #expect(await eventually { await first.peek(id)?.currentMonth == 5 })
            // Shut down while the job is held mid-run, then let it reach its next month.
            group.cancelAll()
            #expect(await eventually { await first.isDraining })
            gate.open()
            try await group.waitForAll()
            return id
        }
        // Interrupted by shutdown: back in the queue on disk, not lost and not failed.
        let stored = try #require(try await SQLiteJobStore(directory: dir).job(id))
        #expect(stored.status == .pending)
        #expect(stored.attempts == 1)
        let second = JobQueue(store: SQLiteJobStore(directory: dir), configuration: c)
        try await withRunningQueue(second) {
            _ = await eventually { await second.peek(id)?.status == .completed }
            let body = try JSONParser.parse(try #require(try await second.result(id)))
            #expect(strip(body) == strip(try ABMSimulation.run(r).json()))
        }
    }

    func strip(_ v: JSONValue) -> JSONValue {
        guard case .object(var o) = v else { return v }
        o["execution_time_seconds"] = nil
        return .object(o)
    }
}
