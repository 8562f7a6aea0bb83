import Foundation
import Logging
import Tracing

public struct JobQueueConfiguration: Sendable {
    /// Jobs running at once (`ABM_MAX_CONCURRENT_JOBS`).
    public var maxConcurrentJobs = 5
    /// Jobs waiting to run; beyond this, submissions get 429 (`ABM_MAX_QUEUED_JOBS`).
    public var maxQueuedJobs = 100
    /// Jobs one client may have waiting; beyond this, that client gets 429 while others still get in
    /// (`ABM_MAX_QUEUED_JOBS_PER_CLIENT`; 0: no per-client bound).
    public var maxQueuedJobsPerClient = 25
    /// Terminal jobs are deleted this long after they end (`ABM_JOB_TTL_HOURS`).
    public var jobTTL: TimeInterval = 24 * 3600
    /// How often the TTL sweep runs.
    public var sweepInterval: TimeInterval = 600
    /// Result cache bounds (`ABM_CACHE_MAX_ENTRIES`, `ABM_CACHE_TTL_MINUTES`).
    public var cacheMaxEntries = 256
    public var cacheMaxAge: TimeInterval = 2 * 3600
    /// A run's lease: renewed every third of it while the job runs (`ABM_JOB_LEASE_SECONDS`).
    public var leaseSeconds: Double = 30
    /// How often the dispatcher looks for pending jobs without being woken (`ABM_JOB_POLL_INTERVAL_MS`):
    /// the fallback when a notification from another instance is lost.
    public var pollInterval: Double = 1
    /// How often expired leases are looked for (one instance at a time does it, in a shared store).
    public var rescueInterval: Double = 5
    /// A job whose run was abandoned this many times (crashes, lost leases) fails instead of running again.
    public var maxRescues = 3
    /// Names this process in the leases it takes.
    public var instanceID = "local"
    /// Asked before every admission: a reason to refuse new work (the data disk is nearly full), or nil.
    public var admissionCheck: (@Sendable () -> String?)?

    /// Called on the worker thread after every month (or trial) of a job, before the cancellation check.
    /// Tests use it to hold a job at a known point; the service never sets it.
    public var progressHook: (@Sendable (_ jobID: String, _ completed: Int) -> Void)?

    /// Starts the job spans: a producer span at submission (its `traceparent` is stored with the job), a
    /// consumer span per run linked to it, and child spans for the run's phases. A no-op tracer by default.
    public var tracer: any Tracer = NoOpTracer()

    /// Reports a failed job as an error event (the service's `ErrorEvents`: a structured line, a count by
    /// fingerprint). Without one, the failure is logged only.
    public var errorReporter: (@Sendable (_ type: String, _ message: String, _ logger: Logger, _ metadata: Logger.Metadata) -> Void)?

    public init() {}
}
