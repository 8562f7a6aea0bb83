import Foundation
import Synchronization

/// Jobs in memory, with the same semantics as the SQLite store (atomic admission, leases, fenced writes,
/// cursors, counters, results by reference): for tests and for running without a data directory
/// (`ABM_JOB_STORE=memory`), where memory holding every job until its TTL is the point.
public final class InMemoryJobStore: JobStore {
    private struct Stored {
        var job: JobRecord
        var request: [UInt8]
        var resultID: Int64?
        var lease: Lease?
        var leaseExpires: Date?
        var cancelRequested = false
    }
    private struct CacheEntry {
        var resultID: Int64
        var seed: UInt32
        var totalMonths: Int
        var storedAt: Date
        var lastUsed: UInt64
    }
    private struct State {
        var jobs: [String: Stored] = [:]
        /// Job ids by sequence, and the sequences in ascending order (append-only; the sweep compacts it), so
        /// a page is a binary search and a slice, not a sort of every job.
        var order: [Int64: String] = [:]
        var sequences: [Int64] = []
        var nextSequence: Int64 = 1
        var results: [Int64: [[UInt8]]] = [:]
        /// Results being written, by the lease token of the run writing them.
        var staged: [Int64: String] = [:]
        var nextResult: Int64 = 1
        var cache: [String: CacheEntry] = [:]
        var tick: UInt64 = 0
        var counts = JobCounts()
        /// Sequences of pending jobs (at most the queue bound), so a claim does not walk every job.
        var pending = Set<Int64>()

        mutating func set(_ id: String, status: JobStatus) {
            guard let old = jobs[id]?.job.status, old != status else { return }
            counts.byStatus[old, default: 0] -= 1
            counts.byStatus[status, default: 0] += 1
            jobs[id]!.job.status = status
            if status == .pending { pending.insert(jobs[id]!.job.sequence) } else { pending.remove(jobs[id]!.job.sequence) }
        }

        mutating func add(_ stored: Stored) -> JobRecord {
            var s = stored
            s.job.sequence = nextSequence
            nextSequence += 1
            jobs[s.job.id] = s
            order[s.job.sequence] = s.job.id
            sequences.append(s.job.sequence)
            counts.byStatus[s.job.status, default: 0] += 1
            if s.job.status == .pending { pending.insert(s.job.sequence) }
            return view(s.job.id)!
        }

        func view(_ id: String) -> JobRecord? {
            guard let s = jobs[id] else { return nil }
            var j = s.job
            j.resultBytes = s.resultID.flatMap { results[$0] }.map { $0.reduce(0) { $0 + $1.count } }
            return j
        }
    }
    private let state = Mutex(State())

    public init() {}

    public func migrate() async throws {}
    public func checkWritable() async throws {}

    public func admit(_ submission: NewJob, limits: AdmissionLimits, now: Date) async throws -> Admission {
        state.withLock { s in
            let pending = s.counts[.pending]
            if pending >= limits.maxQueued { return .queueFull(running: s.counts[.running], queued: pending) }
            let job = submission.job
            if limits.maxQueuedPerClient > 0, let client = job.client {
                let mine = s.pending.filter { s.order[$0].flatMap { s.jobs[$0]?.job.client } == client }.count
                if mine >= limits.maxQueuedPerClient { return .clientQuotaFull(queued: mine) }
            }
            if let key = job.cacheKey, let hit = s.cache[key], now.timeIntervalSince(hit.storedAt) <= limits.cacheMaxAge,
                s.results[hit.resultID] != nil
            {
                s.tick += 1
                s.cache[key]!.lastUsed = s.tick
                let cached = JobRecord(
                    id: submission.cachedID, kind: job.kind, status: .completed, createdAt: now, startedAt: now,
                    completedAt: now, currentMonth: hit.totalMonths, totalMonths: hit.totalMonths, seed: hit.seed,
                    cacheKey: key, cached: true, client: job.client, traceparent: job.traceparent)
                return .cached(s.add(Stored(job: cached, request: [], resultID: hit.resultID)))
            }
            var queued = job
            queued.status = .pending
            queued.createdAt = now
            return .queued(s.add(Stored(job: queued, request: submission.request)))
        }
    }

    public func claim(owner: String, leaseSeconds: Double, now: Date) async throws -> ClaimedJob? {
        state.withLock { s in
            guard let seq = s.pending.min(), let id = s.order[seq]
            else { return nil }
            let lease = Lease(jobID: id, token: UUID().uuidString, owner: owner)
            s.set(id, status: .running)
            s.jobs[id]!.job.startedAt = now
            s.jobs[id]!.job.attempts += 1
            s.jobs[id]!.job.currentMonth = 0
            s.jobs[id]!.lease = lease
            s.jobs[id]!.leaseExpires = now.addingTimeInterval(leaseSeconds)
            s.jobs[id]!.cancelRequested = false
            return ClaimedJob(job: s.view(id)!, request: s.jobs[id]!.request, lease: lease)
        }
    }

    private func holding<T, E: Error>(_ lease: Lease, _ body: (inout State) throws(E) -> T) throws(E) -> T? {
        try state.withLock { s throws(E) -> T? in
            guard let j = s.jobs[lease.jobID], j.job.status == .running, j.lease == lease else { return nil }
            return try body(&s)
        }
    }

    public func renew(_ lease: Lease, currentMonth: Int, leaseSeconds: Double, now: Date) async throws -> LeaseState? {
        holding(lease) { s in
            s.jobs[lease.jobID]!.leaseExpires = now.addingTimeInterval(leaseSeconds)
            s.jobs[lease.jobID]!.job.currentMonth = currentMonth
            return LeaseState(cancelRequested: s.jobs[lease.jobID]!.cancelRequested)
        }
    }

    public func beginResult(_ lease: Lease, now: Date) async throws -> ResultUpload? {
        holding(lease) { s in
            let resultID = s.nextResult
            s.nextResult += 1
            s.results[resultID] = []
            s.staged[resultID] = lease.token
            return ResultUpload(lease: lease, id: resultID)
        }
    }

    public func appendResult(_ upload: ResultUpload, chunks: [[UInt8]]) async throws -> ResultUpload? {
        holding(upload.lease) { s in
            s.results[upload.id, default: []] += chunks
            return upload.appending(chunks)
        }
    }

    public func complete(_ lease: Lease, upload: ResultUpload, cacheKey: String?, cacheMaxEntries: Int, now: Date) async throws -> Bool {
        try holding(lease) { s throws(JobStoreError) -> Bool in
            let id = lease.jobID
            let resultID = upload.id
            guard s.staged[resultID] == lease.token else { throw .unavailable("the staged result is gone") }
            s.staged[resultID] = nil
            s.set(id, status: .completed)
            s.jobs[id]!.job.completedAt = now
            s.jobs[id]!.job.currentMonth = s.jobs[id]!.job.totalMonths
            s.jobs[id]!.job.error = nil
            s.jobs[id]!.resultID = resultID
            s.jobs[id]!.lease = nil
            if let cacheKey, cacheMaxEntries > 0 {
                s.tick += 1
                let j = s.jobs[id]!.job
                s.cache[cacheKey] = CacheEntry(
                    resultID: resultID, seed: j.seed, totalMonths: j.totalMonths, storedAt: now, lastUsed: s.tick)
                while s.cache.count > cacheMaxEntries, let oldest = s.cache.min(by: { $0.value.lastUsed < $1.value.lastUsed }) {
                    s.cache[oldest.key] = nil
                }
            }
            return true
        } ?? false
    }

    private func end(_ lease: Lease, _ status: JobStatus, error: String? = nil, currentMonth: Int = 0, now: Date?) -> Bool {
        holding(lease) { s in
            let id = lease.jobID
            s.set(id, status: status)
            s.jobs[id]!.lease = nil
            s.jobs[id]!.job.completedAt = now
            s.jobs[id]!.job.currentMonth = currentMonth
            if let error { s.jobs[id]!.job.error = error }
            return true
        } ?? false
    }

    public func fail(_ lease: Lease, error: String, currentMonth: Int, now: Date) async throws -> Bool {
        end(lease, .failed, error: error, currentMonth: currentMonth, now: now)
    }
    public func cancelled(_ lease: Lease, currentMonth: Int, now: Date) async throws -> Bool {
        end(lease, .cancelled, currentMonth: currentMonth, now: now)
    }
    public func release(_ lease: Lease) async throws -> Bool { end(lease, .pending, now: nil) }

    public func cancel(_ id: String, now: Date) async throws -> CancelOutcome {
        state.withLock { s in
            guard let j = s.jobs[id] else { return .notFound }
            switch j.job.status {
            case .pending:
                s.set(id, status: .cancelled)
                s.jobs[id]!.job.completedAt = now
                return .cancelled(s.view(id)!)
            case .running:
                s.jobs[id]!.cancelRequested = true
                return .requested
            default:
                return .notCancellable
            }
        }
    }

    public func requeueAbandoned(leaseExpiredBefore: Date?, maxRescues: Int, now: Date) async throws -> Rescue {
        state.withLock { s in
            var rescue = Rescue()
            for (id, j) in s.jobs where j.job.status == .running {
                if let cutoff = leaseExpiredBefore, let expires = j.leaseExpires, expires >= cutoff { continue }
                s.jobs[id]!.lease = nil
                if j.cancelRequested {
                    s.set(id, status: .cancelled)
                    s.jobs[id]!.job.completedAt = now
                } else if j.job.rescues + 1 >= maxRescues {
                    s.set(id, status: .failed)
                    s.jobs[id]!.job.completedAt = now
                    s.jobs[id]!.job.error =
                        "abandoned: its run was interrupted \(j.job.rescues + 1) times (process crash or lost lease); not retried again"
                    rescue.failed += 1
                } else {
                    s.set(id, status: .pending)
                    s.jobs[id]!.job.rescues += 1
                    s.jobs[id]!.job.currentMonth = 0
                    rescue.requeued += 1
                }
            }
            return rescue
        }
    }

    public func job(_ id: String) async throws -> JobRecord? { state.withLock { $0.view(id) } }

    public func list(after cursor: Int64?, limit: Int) async throws -> JobPage {
        state.withLock { s in
            let after = cursor ?? 0
            var lo = 0
            var hi = s.sequences.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if s.sequences[mid] <= after { lo = mid + 1 } else { hi = mid }
            }
            var jobs: [JobRecord] = []
            var i = lo
            while i < s.sequences.count, jobs.count <= limit {
                if let id = s.order[s.sequences[i]], let j = s.view(id) { jobs.append(j) }
                i += 1
            }
            return JobPage(fetched: jobs, limit: limit)
        }
    }

    public func counts() async throws -> StoreCounts {
        state.withLock { s in
            let oldest = s.pending.min().flatMap { s.order[$0] }.flatMap { s.jobs[$0]?.job.createdAt }
            return StoreCounts(jobs: s.counts, cacheEntries: s.cache.count, oldestPending: oldest)
        }
    }

    public func resultInfo(_ jobID: String) async throws -> ResultInfo? {
        state.withLock { s in
            guard let rid = s.jobs[jobID]?.resultID, let chunks = s.results[rid] else { return nil }
            return ResultInfo(resultID: rid, bytes: chunks.reduce(0) { $0 + $1.count }, chunks: chunks.count)
        }
    }

    public func resultChunk(_ resultID: Int64, index: Int) async throws -> [UInt8]? {
        state.withLock { s in
            guard let chunks = s.results[resultID], chunks.indices.contains(index) else { return nil }
            return chunks[index]
        }
    }

    public func sweep(completedBefore cutoff: Date, cacheExpiredBefore: Date) async throws -> Int {
        state.withLock { s in
            var deleted = 0
            for (id, j) in s.jobs where j.job.status.isTerminal && (j.job.completedAt ?? .distantFuture) < cutoff {
                s.jobs[id] = nil
                s.order[j.job.sequence] = nil
                s.counts.byStatus[j.job.status, default: 0] -= 1
                deleted += 1
            }
            if deleted > 0 { s.sequences.removeAll { s.order[$0] == nil } }
            s.cache = s.cache.filter { $0.value.storedAt >= cacheExpiredBefore }
            // Staged results live while the run writing them holds its lease.
            let writing = Set(s.jobs.values.compactMap { $0.job.status == .running ? $0.lease?.token : nil })
            s.staged = s.staged.filter { writing.contains($0.value) }
            let referenced = Set(s.jobs.values.compactMap(\.resultID)).union(s.cache.values.map(\.resultID)).union(s.staged.keys)
            s.results = s.results.filter { referenced.contains($0.key) }
            return deleted
        }
    }
}
