import Foundation

/// Where jobs live: the store is the truth, and the process keeps only its running jobs.
///
/// Two implementations: SQLite (the embedded default, through GRDB) and memory. The protocol is shaped for a
/// networked store: admission is one atomic decision, a run is a lease that every write is fenced by,
/// listings page by cursor and counts are kept at each transition, so no call costs more with more jobs.
public protocol JobStore: Sendable {
    /// Creates or upgrades the schema; safe to call again.
    func migrate() async throws

    /// Decides a submission in one transaction: refuses it when the queue or the client's quota is full
    /// (cache hits too), answers a seeded request from the result cache by reference (nothing is copied),
    /// or stores the job and its request as pending.
    func admit(_ submission: NewJob, limits: AdmissionLimits, now: Date) async throws -> Admission

    /// Takes the oldest pending job, with a fresh lease token expiring `leaseSeconds` from now.
    func claim(owner: String, leaseSeconds: Double, now: Date) async throws -> ClaimedJob?

    /// Renews a lease and records progress. Nil: the lease is gone (taken over, or the job no longer
    /// running); the worker must stop and write nothing.
    func renew(_ lease: Lease, currentMonth: Int, leaseSeconds: Double, now: Date) async throws -> LeaseState?

    /// Starts the result of a running job, to be written in chunks as it is encoded. Nothing of it is
    /// visible until `complete(_:upload:...)` links it to the job; one whose run never completes (a crash, a
    /// lost lease) is deleted by `sweep`. Nil: the lease is gone.
    func beginResult(_ lease: Lease, now: Date) async throws -> ResultUpload?
    /// Appends chunks, in order, to a staged result. Nil: the lease is gone and nothing was written.
    func appendResult(_ upload: ResultUpload, chunks: [[UInt8]]) async throws -> ResultUpload?
    /// Ends a run with its staged result. False: the lease was gone and nothing was written.
    func complete(_ lease: Lease, upload: ResultUpload, cacheKey: String?, cacheMaxEntries: Int, now: Date) async throws -> Bool
    /// Whether `complete(_:upload:lastChunks:...)` writes the last chunks with the completion itself (a
    /// small result then costs one round trip); the runner then hands them over instead of appending them.
    var completesWithLastChunks: Bool { get }
    /// Ends a run with its staged result plus `lastChunks`, atomically: safe to retry after an error.
    func complete(
        _ lease: Lease, upload: ResultUpload, lastChunks: [[UInt8]], cacheKey: String?, cacheMaxEntries: Int, now: Date
    ) async throws -> Bool
    /// `complete(_:upload:lastChunks:...)`, and once the completion is written, a claim of the next pending
    /// job for `owner`, so the worker slot goes straight on to it: one round trip for both where the store
    /// can, and atomic there (both happen or neither). The next job is nil when `owner` is nil (no claim
    /// wanted), when none is pending, or when the store leaves claiming to the dispatcher (the default).
    func complete(
        _ lease: Lease, upload: ResultUpload, lastChunks: [[UInt8]], cacheKey: String?, cacheMaxEntries: Int, now: Date,
        thenClaimFor owner: String?, leaseSeconds: Double
    ) async throws -> (completed: Bool, next: ClaimedJob?)
    /// `currentMonth`: how far the run got, kept for status calls.
    func fail(_ lease: Lease, error: String, currentMonth: Int, now: Date) async throws -> Bool
    func cancelled(_ lease: Lease, currentMonth: Int, now: Date) async throws -> Bool
    /// Hands a running job back to the queue at once (graceful shutdown), to run again from the start.
    func release(_ lease: Lease) async throws -> Bool

    /// Cancels a pending job at once, or asks the instance running it to stop it.
    func cancel(_ id: String, now: Date) async throws -> CancelOutcome

    /// Requeues runs nobody is working on: every running job (`leaseExpiredBefore` nil, at the start of the
    /// only process of an embedded store), or those whose lease expired before the date. A job abandoned
    /// `maxRescues` times fails instead, with a message that says so.
    func requeueAbandoned(leaseExpiredBefore: Date?, maxRescues: Int, now: Date) async throws -> Rescue

    /// Whether other processes share this store (PostgreSQL). Startup recovery then requeues only this
    /// instance's own earlier runs (`requeueOwned`) and expired leases, never another live instance's.
    var isShared: Bool { get }
    /// Requeues the runs whose lease names `owner`: at the start of an instance of a shared store, whose
    /// earlier process (same instance id) died with them. Same rescue counting as `requeueAbandoned`.
    func requeueOwned(by owner: String, maxRescues: Int, now: Date) async throws -> Rescue

    func job(_ id: String) async throws -> JobRecord?
    /// Jobs in submission order after `cursor` (a job's `sequence`), at most `limit`.
    func list(after cursor: Int64?, limit: Int) async throws -> JobPage
    /// Jobs per status and result-cache entries, from counters kept at each transition.
    func counts() async throws -> StoreCounts

    /// The stored result of a completed job, described for streaming, or nil.
    func resultInfo(_ jobID: String) async throws -> ResultInfo?
    /// One chunk of a stored result; nil once the result has been deleted.
    func resultChunk(_ resultID: Int64, index: Int) async throws -> [UInt8]?

    /// Deletes terminal jobs completed before `cutoff` (in batches), cache entries older than
    /// `cacheExpiredBefore`, and results no job or cache entry refers to. Returns how many jobs went.
    func sweep(completedBefore cutoff: Date, cacheExpiredBefore: Date) async throws -> Int

    /// Checks that the store can be written now (readiness).
    func checkWritable() async throws
}

extension JobStore {
    /// The embedded stores belong to one process.
    public var isShared: Bool { false }

    public func requeueOwned(by owner: String, maxRescues: Int, now: Date) async throws -> Rescue {
        try await requeueAbandoned(leaseExpiredBefore: nil, maxRescues: maxRescues, now: now)
    }

    public var completesWithLastChunks: Bool { false }

    /// Appends, then completes: for stores whose runner appends everything itself (`completesWithLastChunks`
    /// false), so `lastChunks` is empty there except in tests.
    public func complete(
        _ lease: Lease, upload: ResultUpload, lastChunks: [[UInt8]], cacheKey: String?, cacheMaxEntries: Int, now: Date
    ) async throws -> Bool {
        var upload = upload
        if !lastChunks.isEmpty {
            guard let next = try await appendResult(upload, chunks: lastChunks) else { return false }
            upload = next
        }
        return try await complete(lease, upload: upload, cacheKey: cacheKey, cacheMaxEntries: cacheMaxEntries, now: now)
    }

    /// Completes only: the dispatcher claims the next job (a claim costs these stores nothing more there).
    public func complete(
        _ lease: Lease, upload: ResultUpload, lastChunks: [[UInt8]], cacheKey: String?, cacheMaxEntries: Int, now: Date,
        thenClaimFor owner: String?, leaseSeconds: Double
    ) async throws -> (completed: Bool, next: ClaimedJob?) {
        (try await complete(lease, upload: upload, lastChunks: lastChunks, cacheKey: cacheKey, cacheMaxEntries: cacheMaxEntries, now: now), nil)
    }

    /// Ends a run with a result given whole (small results, tests): staged, appended, completed.
    public func complete(_ lease: Lease, result: [UInt8], cacheKey: String?, cacheMaxEntries: Int, now: Date) async throws -> Bool {
        guard let staged = try await beginResult(lease, now: now) else { return false }
        let chunks = ResultChunking.split(result).map(Array.init)
        if completesWithLastChunks {
            return try await complete(lease, upload: staged, lastChunks: chunks, cacheKey: cacheKey, cacheMaxEntries: cacheMaxEntries, now: now)
        }
        guard let full = try await appendResult(staged, chunks: chunks) else { return false }
        return try await complete(lease, upload: full, cacheKey: cacheKey, cacheMaxEntries: cacheMaxEntries, now: now)
    }
}

/// A result being written for a running job: its id in the store and what has been appended so far.
public struct ResultUpload: Sendable, Equatable {
    public let lease: Lease
    public let id: Int64
    public var chunks: Int
    public var bytes: Int

    public init(lease: Lease, id: Int64, chunks: Int = 0, bytes: Int = 0) {
        self.lease = lease
        self.id = id
        self.chunks = chunks
        self.bytes = bytes
    }

    /// The upload after `more` chunks.
    public func appending(_ more: [[UInt8]]) -> ResultUpload {
        ResultUpload(lease: lease, id: id, chunks: chunks + more.count, bytes: bytes + more.reduce(0) { $0 + $1.count })
    }
}

/// The bounds admission enforces, all in the same transaction.
public struct AdmissionLimits: Sendable, Equatable {
    public var maxQueued: Int
    /// Pending jobs one client may have; 0 means no per-client bound.
    public var maxQueuedPerClient: Int
    /// Cache entries older than this are not hits.
    public var cacheMaxAge: TimeInterval

    public init(maxQueued: Int, maxQueuedPerClient: Int, cacheMaxAge: TimeInterval) {
        self.maxQueued = maxQueued
        self.maxQueuedPerClient = maxQueuedPerClient
        self.cacheMaxAge = cacheMaxAge
    }
}

public enum Admission: Sendable, Equatable {
    case queued(JobRecord)
    /// A completed `cached_` job pointing at the stored result of an earlier run.
    case cached(JobRecord)
    case queueFull(running: Int, queued: Int)
    case clientQuotaFull(queued: Int)
}

public enum CancelOutcome: Sendable, Equatable {
    case cancelled(JobRecord)
    /// Running: the instance running it stops it at its next month (or trial).
    case requested
    case notFound
    case notCancellable
}

/// What a lease renewal learned.
public struct LeaseState: Sendable, Equatable {
    /// Someone cancelled the job: stop it and record it cancelled.
    public var cancelRequested: Bool
}

public struct Rescue: Sendable, Equatable {
    public var requeued: Int
    public var failed: Int
    public init(requeued: Int = 0, failed: Int = 0) {
        self.requeued = requeued
        self.failed = failed
    }
}

public struct JobPage: Sendable, Equatable {
    public var jobs: [JobRecord]
    /// The cursor of the next page, or nil when this is the last.
    public var next: Int64?

    /// From up to `limit + 1` jobs fetched in order: one more than the page means there is a next page.
    init(fetched: [JobRecord], limit: Int) {
        jobs = Array(fetched.prefix(limit))
        next = fetched.count > limit ? jobs.last?.sequence : nil
    }
}

public struct StoreCounts: Sendable, Equatable {
    public var jobs: JobCounts
    public var cacheEntries: Int
    /// When the oldest pending job was submitted (nil: none pending), read through the pending index.
    public var oldestPending: Date?

    public init(jobs: JobCounts, cacheEntries: Int, oldestPending: Date? = nil) {
        self.jobs = jobs
        self.cacheEntries = cacheEntries
        self.oldestPending = oldestPending
    }
}

public struct ResultInfo: Sendable, Equatable {
    public var resultID: Int64
    public var bytes: Int
    public var chunks: Int
}

/// Results are stored in chunks of this size, and served chunk by chunk.
public enum ResultChunking {
    public static let chunkBytes = 256 * 1024

    static func split(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        stride(from: 0, to: max(bytes.count, 1), by: chunkBytes).map {
            bytes[$0..<min($0 + chunkBytes, bytes.count)]
        }
    }
}

public enum JobStoreError: Error, Equatable, CustomStringConvertible {
    case notFound(String)
    case unavailable(String)

    public var description: String {
        switch self {
        case .notFound(let id): return "job \(id) not found in the store"
        case .unavailable(let why): return "job store unavailable: \(why)"
        }
    }
}
