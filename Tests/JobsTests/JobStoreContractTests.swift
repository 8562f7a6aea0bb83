import Foundation
import GRDB
@testable import Jobs
import Testing

/// The store protocol's contract, held against every store alike (SQLite, memory and PostgreSQL: a private
/// cluster started by the tests, a fresh database per test).
@Suite struct JobStoreContractTests {
    static let kinds = ["sqlite", "memory"] + (PostgresTestServer.available ? ["postgres"] : [])
    static let t0 = Date(timeIntervalSince1970: 1_000_000)

    /// A store of `kind` in a fresh directory, removed after `body`.
    func withStore(_ kind: String, _ body: (any JobStore, String) async throws -> Void) async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        if kind == "postgres" {
            try await PostgresTestServer.withStore { store in try await body(store, dir) }
            return
        }
        let store: any JobStore = kind == "sqlite" ? SQLiteJobStore(directory: dir) : InMemoryJobStore()
        try await store.migrate()
        try await body(store, dir)
    }

    static func submission(
        _ id: String, kind: JobKind = .abm, client: String? = nil, cacheKey: String? = nil, request: String = #"{"x":1}"#
    ) -> NewJob {
        NewJob(
            job: JobRecord(id: id, kind: kind, createdAt: t0, totalMonths: 12, seed: 7, cacheKey: cacheKey, client: client),
            request: Array(request.utf8), cachedID: "cached_" + id)
    }

    static let open = AdmissionLimits(maxQueued: 1000, maxQueuedPerClient: 0, cacheMaxAge: 3600)

    func admit(_ store: any JobStore, _ s: NewJob, _ limits: AdmissionLimits = open, now: Date = t0) async throws -> JobRecord {
        switch try await store.admit(s, limits: limits, now: now) {
        case .queued(let j), .cached(let j): return j
        case let other: throw StoreTestError.unexpected("\(other)")
        }
    }

    func body(_ store: any JobStore, _ id: String) async throws -> [UInt8]? {
        guard let info = try await store.resultInfo(id) else { return nil }
        var out: [UInt8] = []
        for i in 0..<info.chunks { out += try #require(try await store.resultChunk(info.resultID, index: i)) }
        return out
    }

    /// A result written in chunks while its run encodes it is invisible until the run completes, a lease
    /// lost meanwhile refuses more chunks, and the sweep deletes what abandoned runs wrote, never what a
    /// live run is writing.
    @Test(arguments: kinds) func stagedResultsAreInvisibleUntilCompleteAndSweptWhenAbandoned(kind: String) async throws {
        try await withStore(kind) { store, _ in
            _ = try await admit(store, Self.submission("a"))
            _ = try await admit(store, Self.submission("b"))
            let a = try #require(try await store.claim(owner: "w1", leaseSeconds: 30, now: Self.t0))
            var upload = try #require(try await store.beginResult(a.lease, now: Self.t0))
            upload = try #require(try await store.appendResult(upload, chunks: [[1, 2], [3]]))
            #expect(upload.chunks == 2 && upload.bytes == 3)
            #expect(try await store.resultInfo("a") == nil)
            _ = try await store.sweep(completedBefore: Self.t0, cacheExpiredBefore: Self.t0)
            // The live run's staged result survives the sweep.
            upload = try #require(try await store.appendResult(upload, chunks: [[4, 5, 6]]))
            #expect(try await store.complete(a.lease, upload: upload, cacheKey: nil, cacheMaxEntries: 10, now: Self.t0))
            let info = try #require(try await store.resultInfo("a"))
            #expect(info.chunks == 3 && info.bytes == 6)
            #expect(try await body(store, "a") == [1, 2, 3, 4, 5, 6])

            // An abandoned run: its lease goes (requeued), its staged chunks are refused and then swept.
            let b = try #require(try await store.claim(owner: "w1", leaseSeconds: 30, now: Self.t0))
            let begun = try #require(try await store.beginResult(b.lease, now: Self.t0))
            let staged = try #require(try await store.appendResult(begun, chunks: [[9]]))
            #expect(try await store.resultChunk(staged.id, index: 0) == [9])
            _ = try await store.requeueAbandoned(leaseExpiredBefore: nil, maxRescues: 3, now: Self.t0)
            #expect(try await store.appendResult(staged, chunks: [[10]]) == nil)
            #expect(try await store.complete(b.lease, upload: staged, cacheKey: nil, cacheMaxEntries: 10, now: Self.t0) == false)
            _ = try await store.sweep(completedBefore: Self.t0, cacheExpiredBefore: Self.t0)
            #expect(try await store.resultChunk(staged.id, index: 0) == nil)
            #expect(try await body(store, "a") == [1, 2, 3, 4, 5, 6])
        }
    }

    @Test(arguments: kinds) func admitClaimRenewAndCompleteInChunks(kind: String) async throws {
        try await withStore(kind) { store, _ in
            let queued = try await admit(store, Self.submission("a"))
            #expect(queued.status == .pending && queued.sequence > 0 && queued.resultBytes == nil)
            let claimed = try #require(try await store.claim(owner: "w1", leaseSeconds: 30, now: Self.t0))
            #expect(claimed.job.id == "a" && claimed.job.status == .running && claimed.job.attempts == 1)
            #expect(claimed.request == Array(#"{"x":1}"#.utf8))
            #expect(try await store.claim(owner: "w1", leaseSeconds: 30, now: Self.t0) == nil)
            #expect(try await store.renew(claimed.lease, currentMonth: 4, leaseSeconds: 30, now: Self.t0) == LeaseState(cancelRequested: false))
            #expect(try await store.job("a")?.currentMonth == 4)
            // Larger than two chunks, so it is stored and read back in three.
            let result = (0..<(2 * ResultChunking.chunkBytes + 1000)).map { UInt8(truncatingIfNeeded: $0 * 7) }
            #expect(try await store.complete(claimed.lease, result: result, cacheKey: nil, cacheMaxEntries: 10, now: Self.t0))
            let info = try #require(try await store.resultInfo("a"))
            #expect(info.chunks == 3 && info.bytes == result.count)
            #expect(try await body(store, "a") == result)
            let done = try #require(try await store.job("a"))
            #expect(done.status == .completed && done.currentMonth == 12 && done.resultBytes == result.count)
            #expect(try await store.counts().jobs == JobCounts(byStatus: [.completed: 1]))
        }
    }

    /// The submission's trace context is kept with the job: read back by status, by the claim (a run links to it,
    /// after a restart or on another instance) and by the listing, and copied to a cache hit's job.
    @Test(arguments: kinds) func theSubmissionsTraceparentTravelsWithTheJob(kind: String) async throws {
        try await withStore(kind) { store, _ in
            let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            var s = Self.submission("t", cacheKey: "k")
            s.job.traceparent = traceparent
            #expect(try await admit(store, s).traceparent == traceparent)
            #expect(try await admit(store, Self.submission("plain")).traceparent == nil)
            #expect(try await store.job("t")?.traceparent == traceparent)
            let claimed = try #require(try await store.claim(owner: "w1", leaseSeconds: 30, now: Self.t0))
            #expect(claimed.job.id == "t" && claimed.job.traceparent == traceparent)
            #expect(try await store.complete(claimed.lease, result: Array("{}".utf8), cacheKey: "k", cacheMaxEntries: 10, now: Self.t0))
            var again = Self.submission("t2", cacheKey: "k")
            again.job.traceparent = "00-11111111111111111111111111111111-2222222222222222-01"
            let hit = try await admit(store, again)
            #expect(hit.cached && hit.traceparent == again.job.traceparent)
            #expect(try await store.list(after: nil, limit: 10).jobs.first { $0.id == "t" }?.traceparent == traceparent)
        }
    }

    @Test(arguments: kinds) func admissionRefusesAFullQueueAndAClientOverItsQuota(kind: String) async throws {
        try await withStore(kind) { store, _ in
            let limits = AdmissionLimits(maxQueued: 3, maxQueuedPerClient: 2, cacheMaxAge: 3600)
            _ = try await admit(store, Self.submission("a1", client: "A"), limits)
            _ = try await admit(store, Self.submission("a2", client: "A"), limits)
            #expect(try await store.admit(Self.submission("a3", client: "A"), limits: limits, now: Self.t0) == .clientQuotaFull(queued: 2))
            // Another client still gets in, up to the queue's own bound.
            _ = try await admit(store, Self.submission("b1", client: "B"), limits)
            #expect(try await store.admit(Self.submission("b2", client: "B"), limits: limits, now: Self.t0) == .queueFull(running: 0, queued: 3))
            // A running job no longer counts against its client's quota.
            _ = try #require(try await store.claim(owner: "w", leaseSeconds: 30, now: Self.t0))
            _ = try await admit(store, Self.submission("a3", client: "A"), limits)
            #expect(try await store.counts().jobs[.pending] == 3)
        }
    }

    /// Many submissions at once: the bound is decided with the insert, so exactly `maxQueued` get in.
    @Test(arguments: kinds) func concurrentAdmissionsHoldTheBound(kind: String) async throws {
        try await withStore(kind) { store, _ in
            let limits = AdmissionLimits(maxQueued: 5, maxQueuedPerClient: 0, cacheMaxAge: 3600)
            let outcomes = await withTaskGroup(of: Admission?.self) { group in
                for i in 0..<40 {
                    group.addTask { try? await store.admit(Self.submission("j\(i)"), limits: limits, now: Self.t0) }
                }
                var all: [Admission?] = []
                for await o in group { all.append(o) }
                return all
            }
            let queued = outcomes.filter { if case .queued = $0 { return true } else { return false } }.count
            let full = outcomes.filter { if case .queueFull = $0 { return true } else { return false } }.count
            #expect(queued == 5 && full == 35)
            let pending = try await store.counts().jobs[.pending]
            #expect(pending == 5)
        }
    }

    @Test(arguments: kinds) func aCacheHitPointsAtTheStoredResult(kind: String) async throws {
        try await withStore(kind) { store, _ in
            _ = try await admit(store, Self.submission("first", cacheKey: "k"))
            let claimed = try #require(try await store.claim(owner: "w", leaseSeconds: 30, now: Self.t0))
            let result = Array(repeating: UInt8(ascii: "r"), count: 1000)
            #expect(try await store.complete(claimed.lease, result: result, cacheKey: "k", cacheMaxEntries: 10, now: Self.t0))
            let hit = try await store.admit(Self.submission("second", cacheKey: "k"), limits: Self.open, now: Self.t0.addingTimeInterval(10))
            guard case .cached(let cached) = hit else { Issue.record("expected a cache hit, got \(hit)"); return }
            #expect(cached.id == "cached_second" && cached.cached && cached.status == .completed && cached.seed == 7)
            #expect(try await store.resultInfo("cached_second")?.resultID == (try await store.resultInfo("first")?.resultID))
            #expect(try await body(store, "cached_second") == result)
            #expect(try await store.counts().cacheEntries == 1)
            // Older than the cache's age: a miss, queued as a new job.
            let late = try await store.admit(
                Self.submission("third", cacheKey: "k"), limits: AdmissionLimits(maxQueued: 10, maxQueuedPerClient: 0, cacheMaxAge: 5),
                now: Self.t0.addingTimeInterval(60))
            guard case .queued = late else { Issue.record("expected a miss, got \(late)"); return }
            // A full queue refuses hits too.
            let refused = try await store.admit(
                Self.submission("fourth", cacheKey: "k"), limits: AdmissionLimits(maxQueued: 1, maxQueuedPerClient: 0, cacheMaxAge: 3600),
                now: Self.t0)
            #expect(refused == .queueFull(running: 0, queued: 1))
        }
    }

    @Test(arguments: kinds) func cacheEntriesAreBoundedLeastRecentlyUsedFirst(kind: String) async throws {
        try await withStore(kind) { store, _ in
            for key in ["a", "b", "c"] {
                _ = try await admit(store, Self.submission("job-" + key, cacheKey: key))
                let c = try #require(try await store.claim(owner: "w", leaseSeconds: 30, now: Self.t0))
                #expect(try await store.complete(c.lease, result: [1], cacheKey: key, cacheMaxEntries: 2, now: Self.t0))
            }
            #expect(try await store.counts().cacheEntries == 2)
            guard case .queued = try await store.admit(Self.submission("again-a", cacheKey: "a"), limits: Self.open, now: Self.t0) else {
                Issue.record("the least recently used entry should have gone")
                return
            }
            guard case .cached = try await store.admit(Self.submission("again-c", cacheKey: "c"), limits: Self.open, now: Self.t0) else {
                Issue.record("a recent entry should hit")
                return
            }
        }
    }

    /// A worker whose lease was taken over writes nothing: not progress, not a result, not a failure.
    @Test(arguments: kinds) func writesAreFencedByTheLease(kind: String) async throws {
        try await withStore(kind) { store, _ in
            _ = try await admit(store, Self.submission("a"))
            let first = try #require(try await store.claim(owner: "w1", leaseSeconds: 30, now: Self.t0))
            // w1's lease expires; a rescue requeues the job and w2 claims it.
            #expect(try await store.requeueAbandoned(leaseExpiredBefore: Self.t0.addingTimeInterval(10), maxRescues: 5, now: Self.t0) == Rescue())
            #expect(try await store.requeueAbandoned(leaseExpiredBefore: Self.t0.addingTimeInterval(31), maxRescues: 5, now: Self.t0) == Rescue(requeued: 1))
            let second = try #require(try await store.claim(owner: "w2", leaseSeconds: 30, now: Self.t0.addingTimeInterval(31)))
            #expect(second.lease.token != first.lease.token && second.job.attempts == 2 && second.job.rescues == 1)
            #expect(try await store.renew(first.lease, currentMonth: 9, leaseSeconds: 30, now: Self.t0) == nil)
            #expect(try await store.complete(first.lease, result: [9], cacheKey: nil, cacheMaxEntries: 10, now: Self.t0) == false)
            #expect(try await store.fail(first.lease, error: "late", currentMonth: 1, now: Self.t0) == false)
            #expect(try await store.release(first.lease) == false)
            #expect(try await store.resultInfo("a") == nil)
            #expect(try await store.job("a")?.status == .running)
            #expect(try await store.complete(second.lease, result: [2], cacheKey: nil, cacheMaxEntries: 10, now: Self.t0))
            #expect(try await body(store, "a") == [2])
        }
    }

    /// A completion that also claims: the next job is claimed only once the completion is written (a fenced
    /// completion claims nothing), at most one, and what it returns is a real claim (its lease renews, its
    /// request is the submitted one). Stores that leave claiming to the dispatcher return none.
    @Test(arguments: kinds) func aCompletionClaimsTheNextJobOnlyOnceWritten(kind: String) async throws {
        try await withStore(kind) { store, _ in
            for id in ["a", "b", "c"] { _ = try await admit(store, Self.submission(id)) }
            let first = try #require(try await store.claim(owner: "w1", leaseSeconds: 30, now: Self.t0))
            // A stale lease: nothing completes and nothing is claimed.
            let stale = Lease(jobID: first.lease.jobID, token: "stale", owner: "w1")
            let refused = try await store.complete(
                stale, upload: try #require(try await store.beginResult(first.lease, now: Self.t0)), lastChunks: [[1]], cacheKey: nil,
                cacheMaxEntries: 10, now: Self.t0, thenClaimFor: "w1", leaseSeconds: 30)
            #expect(refused.completed == false && refused.next == nil)
            #expect(try await store.job("b")?.status == .pending)
            let upload = try #require(try await store.beginResult(first.lease, now: Self.t0))
            let (completed, next) = try await store.complete(
                first.lease, upload: upload, lastChunks: [[7]], cacheKey: nil, cacheMaxEntries: 10, now: Self.t0,
                thenClaimFor: "w1", leaseSeconds: 30)
            #expect(completed)
            #expect(try await body(store, first.job.id) == [7])
            if kind == "postgres" {
                let claimed = try #require(next)
                #expect(claimed.job.id == "b" && claimed.job.status == .running && claimed.job.attempts == 1)
                #expect(claimed.request == Array(Self.submission("b").request))
                #expect(try await store.renew(claimed.lease, currentMonth: 1, leaseSeconds: 30, now: Self.t0) == LeaseState(cancelRequested: false))
                #expect(try await store.claim(owner: "w2", leaseSeconds: 30, now: Self.t0)?.job.id == "c")
            } else {
                #expect(next == nil)
                #expect(try await store.claim(owner: "w2", leaseSeconds: 30, now: Self.t0)?.job.id == "b")
            }
        }
    }

    @Test(arguments: kinds) func cancelStopsPendingAtOnceAndAsksRunningToStop(kind: String) async throws {
        try await withStore(kind) { store, _ in
            _ = try await admit(store, Self.submission("run"))
            _ = try await admit(store, Self.submission("wait"))
            let claimed = try #require(try await store.claim(owner: "w", leaseSeconds: 30, now: Self.t0))
            guard case .cancelled(let c) = try await store.cancel("wait", now: Self.t0) else { Issue.record("pending cancel"); return }
            #expect(c.status == .cancelled && c.completedAt == Self.t0)
            #expect(try await store.cancel("wait", now: Self.t0) == .notCancellable)
            #expect(try await store.cancel("nope", now: Self.t0) == .notFound)
            #expect(try await store.cancel("run", now: Self.t0) == .requested)
            #expect(try await store.renew(claimed.lease, currentMonth: 1, leaseSeconds: 30, now: Self.t0) == LeaseState(cancelRequested: true))
            // The worker died before recording it: recovery ends the job cancelled instead of running it again.
            #expect(try await store.requeueAbandoned(leaseExpiredBefore: nil, maxRescues: 5, now: Self.t0) == Rescue())
            #expect(try await store.job("run")?.status == .cancelled)
            #expect(try await store.claim(owner: "w", leaseSeconds: 30, now: Self.t0) == nil)
        }
    }

    @Test(arguments: kinds) func aJobAbandonedTooOftenFails(kind: String) async throws {
        try await withStore(kind) { store, _ in
            _ = try await admit(store, Self.submission("poison"))
            for round in 1...2 {
                _ = try #require(try await store.claim(owner: "w", leaseSeconds: 30, now: Self.t0))
                let rescue = try await store.requeueAbandoned(leaseExpiredBefore: nil, maxRescues: 3, now: Self.t0)
                #expect(rescue == Rescue(requeued: 1), "round \(round)")
            }
            _ = try #require(try await store.claim(owner: "w", leaseSeconds: 30, now: Self.t0))
            #expect(try await store.requeueAbandoned(leaseExpiredBefore: nil, maxRescues: 3, now: Self.t0) == Rescue(failed: 1))
            let failed = try #require(try await store.job("poison"))
            #expect(failed.status == .failed && failed.error?.contains("interrupted 3 times") == true)
        }
    }

    @Test(arguments: kinds) func releaseHandsAJobBackWithoutCountingARescue(kind: String) async throws {
        try await withStore(kind) { store, _ in
            _ = try await admit(store, Self.submission("a"))
            let c = try #require(try await store.claim(owner: "w", leaseSeconds: 30, now: Self.t0))
            #expect(try await store.release(c.lease))
            let back = try #require(try await store.job("a"))
            #expect(back.status == .pending && back.rescues == 0 && back.attempts == 1 && back.currentMonth == 0)
        }
    }

    @Test(arguments: kinds) func listingPagesByCursorWithoutSkipsOrRepeats(kind: String) async throws {
        try await withStore(kind) { store, _ in
            for i in 0..<25 { _ = try await admit(store, Self.submission(String(format: "j%02d", i))) }
            var seen: [String] = []
            var cursor: Int64?
            var pages = 0
            repeat {
                let page = try await store.list(after: cursor, limit: 10)
                seen += page.jobs.map(\.id)
                cursor = page.next
                pages += 1
                // A job deleted between pages does not shift the next page.
                if pages == 1 {
                    _ = try await store.cancel("j03", now: Self.t0)
                    _ = try await store.sweep(completedBefore: Self.t0.addingTimeInterval(1), cacheExpiredBefore: Self.t0)
                }
            } while cursor != nil && pages < 10
            #expect(pages == 3)
            #expect(seen == (0..<25).map { String(format: "j%02d", $0) })
            #expect(try await store.list(after: nil, limit: 30).jobs.count == 24)
        }
    }

    @Test(arguments: kinds) func sweepKeepsResultsStillReferred(kind: String) async throws {
        try await withStore(kind) { store, _ in
            _ = try await admit(store, Self.submission("orig", cacheKey: "k"))
            let c = try #require(try await store.claim(owner: "w", leaseSeconds: 30, now: Self.t0))
            #expect(try await store.complete(c.lease, result: [1, 2, 3], cacheKey: "k", cacheMaxEntries: 10, now: Self.t0))
            _ = try await admit(store, Self.submission("hit", cacheKey: "k"), now: Self.t0.addingTimeInterval(100))
            // The original expires; the cached job still refers to the result, which stays.
            #expect(try await store.sweep(completedBefore: Self.t0.addingTimeInterval(50), cacheExpiredBefore: Self.t0.addingTimeInterval(-1)) == 1)
            #expect(try await store.job("orig") == nil)
            #expect(try await body(store, "cached_hit") == [1, 2, 3])
            // Then the hit and the cache entry expire too: the result goes.
            let resultID = try #require(try await store.resultInfo("cached_hit")).resultID
            #expect(try await store.sweep(completedBefore: Self.t0.addingTimeInterval(200), cacheExpiredBefore: Self.t0.addingTimeInterval(200)) == 1)
            #expect(try await store.resultChunk(resultID, index: 0) == nil)
            #expect(try await store.counts().jobs.total == 0)
        }
    }
}

enum StoreTestError: Error { case unexpected(String) }

