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

/// One job as stored: everything needed to answer status calls and to run it again after a restart.
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
    /// The canonical request JSON (every default filled in).
    public var request: [UInt8]
    /// The seed the job runs with: the request's, or one chosen at submission, so a rerun is identical.
    public var seed: UInt32
    /// Result-cache key, for seeded ABM requests only.
    public var cacheKey: String?
    /// True for a job answered from the result cache.
    public var cached: Bool
    /// Times this job was started (more than 1 after an interruption).
    public var attempts: Int

    public init(
        id: String, kind: JobKind, status: JobStatus = .pending, createdAt: Date, startedAt: Date? = nil,
        completedAt: Date? = nil, currentMonth: Int = 0, totalMonths: Int, error: String? = nil, request: [UInt8],
        seed: UInt32, cacheKey: String? = nil, cached: Bool = false, attempts: Int = 0
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
        self.request = request
        self.seed = seed
        self.cacheKey = cacheKey
        self.cached = cached
        self.attempts = attempts
    }

    public var progressPct: Double {
        totalMonths > 0 ? Double(currentMonth) / Double(totalMonths) * 100 : 0
    }
}

/// Counts per status, for queue statistics and metrics.
public struct JobCounts: Sendable, Equatable {
    public var byStatus: [JobStatus: Int] = [:]
    public var total: Int { byStatus.values.reduce(0, +) }
    public subscript(_ s: JobStatus) -> Int { byStatus[s] ?? 0 }
    public init(byStatus: [JobStatus: Int] = [:]) { self.byStatus = byStatus }
}
