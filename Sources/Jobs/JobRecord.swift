import Foundation

public enum JobStatus: String, Sendable, CaseIterable, Codable {
    case pending, running, completed, failed, cancelled

    public var isTerminal: Bool { self == .completed || self == .failed || self == .cancelled }

    /// The job lifecycle (spec 7.4, plus cancelling a queued job and re-queueing an interrupted one).
    public func canTransition(to next: JobStatus) -> Bool {
        switch (self, next) {
        case (.pending, .running), (.pending, .cancelled): return true
        case (.running, .completed), (.running, .failed), (.running, .cancelled): return true
        // A running job interrupted by shutdown or a crash goes back to the queue and runs again.
        case (.running, .pending): return true
        default: return false
        }
    }
}

public enum JobKind: String, Sendable, Codable {
    case abm
    case monteCarlo = "monte_carlo"
}

/// One job as the store describes it: what status calls, listings and the progress stream need. The request
/// and the result are not here: the request is read when the job is claimed, the result streamed in chunks.
public struct JobRecord: Sendable, Equatable {
    public var id: String
    public var kind: JobKind
    public var status: JobStatus
    public var createdAt: Date
    public var startedAt: Date?
    public var completedAt: Date?
    public var currentMonth: Int
    public var totalMonths: Int
    public var error: String?
    /// The seed the job runs with: the request's, or one chosen at submission, so a rerun is identical.
    public var seed: UInt32
    /// Result-cache key, for seeded ABM requests only.
    public var cacheKey: String?
    /// True for a job answered from the result cache.
    public var cached: Bool
    /// Times this job was started (more than 1 after an interruption).
    public var attempts: Int
    /// Times a run of this job was abandoned (the process died or its lease expired) and the job requeued.
    public var rescues: Int
    /// The submitting client's address (for the per-client quota).
    public var client: String?
    /// Submission order, assigned by the store; the listing's cursor is built from it.
    public var sequence: Int64
    /// The stored result's size in bytes, once completed.
    public var resultBytes: Int?
    /// The trace context of the submission (its producer span) as `JobTrace.stored` writes it: the W3C
    /// `traceparent` when tracing was on. Each run links to it, and the status body shows its trace id.
    public var traceparent: String?

    public init(
        id: String, kind: JobKind, status: JobStatus = .pending, createdAt: Date, startedAt: Date? = nil,
        completedAt: Date? = nil, currentMonth: Int = 0, totalMonths: Int, error: String? = nil, seed: UInt32,
        cacheKey: String? = nil, cached: Bool = false, attempts: Int = 0, rescues: Int = 0, client: String? = nil,
        sequence: Int64 = 0, resultBytes: Int? = nil, traceparent: String? = nil
    ) {
        self.id = id
        self.kind = kind
        self.status = status
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.completedAt = completedAt
        self.currentMonth = currentMonth
        self.totalMonths = totalMonths
        self.error = error
        self.seed = seed
        self.cacheKey = cacheKey
        self.cached = cached
        self.attempts = attempts
        self.rescues = rescues
        self.client = client
        self.sequence = sequence
        self.resultBytes = resultBytes
        self.traceparent = traceparent
    }

    public var progressPct: Double {
        totalMonths > 0 ? Double(currentMonth) / Double(totalMonths) * 100 : 0
    }
}

/// A submission as handed to the store: the job to queue, its canonical request, and the id a cache hit
/// would get instead.
public struct NewJob: Sendable {
    public var job: JobRecord
    public var request: [UInt8]
    /// The id of the `cached_` job created when `job.cacheKey` hits the result cache.
    public var cachedID: String

    public init(job: JobRecord, request: [UInt8], cachedID: String) {
        self.job = job
        self.request = request
        self.cachedID = cachedID
    }
}

/// A claim on a running job. Every write about the run (progress, completion, failure, hand-back) names the
/// token, and the store refuses it once the lease has been taken over, so a late worker writes nothing.
public struct Lease: Sendable, Equatable {
    public var jobID: String
    public var token: String
    public var owner: String

    public init(jobID: String, token: String, owner: String) {
        self.jobID = jobID
        self.token = token
        self.owner = owner
    }
}

/// What a claim hands the worker: the job, its request and its lease.
public struct ClaimedJob: Sendable {
    public var job: JobRecord
    public var request: [UInt8]
    public var lease: Lease
}

/// Counts per status, for queue statistics and metrics.
public struct JobCounts: Sendable, Equatable {
    public var byStatus: [JobStatus: Int] = [:]
    public var total: Int { byStatus.values.reduce(0, +) }
    public subscript(_ s: JobStatus) -> Int { byStatus[s] ?? 0 }
    public init(byStatus: [JobStatus: Int] = [:]) { self.byStatus = byStatus }

    /// Equal when every status has the same count (a missing status counts zero).
    public static func == (a: JobCounts, b: JobCounts) -> Bool { JobStatus.allCases.allSatisfy { a[$0] == b[$0] } }
}
