/// Why the queue refused or could not answer; `API` maps these to HTTP statuses.
public enum JobQueueError: Error, Equatable, Sendable {
    /// `ABM_MAX_QUEUED_JOBS` jobs are already waiting.
    case queueFull(running: Int, queued: Int, maxQueued: Int, retryAfterSeconds: Int)
    /// This client already has `ABM_MAX_QUEUED_JOBS_PER_CLIENT` jobs waiting.
    case clientQuotaFull(queued: Int, maxPerClient: Int, retryAfterSeconds: Int)
    /// The data disk is below its free-space floor: no new work until it has room again.
    case insufficientStorage(String)
    case notFound(String)
    case notCancellable(String)
    /// Shutting down: no new work is accepted.
    case draining
    /// The store failed; the reason is logged and reported.
    case storeUnavailable(String)
}

extension JobQueueError {
    /// The case's name, for span attributes and logs.
    public var kind: String {
        switch self {
        case .queueFull: return "queue_full"
        case .clientQuotaFull: return "client_quota_full"
        case .insufficientStorage: return "insufficient_storage"
        case .notFound: return "not_found"
        case .notCancellable: return "not_cancellable"
        case .draining: return "draining"
        case .storeUnavailable: return "store_unavailable"
        }
    }
}
