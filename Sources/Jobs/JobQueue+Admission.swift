import Foundation
import Simulation
import Tracing

/// Submission: every bound (queue, per-client quota) is decided in one store transaction together with the
/// insert or the cache hit, so concurrent submissions cannot slip past it between a check and a write.
extension JobQueue {
    public struct Submission: Sendable {
        public var job: JobRecord
        public var cached: Bool
    }

    /// Stores a new ABM job, or answers a seeded request from the result cache by reference.
    public func submitABM(_ request: ABMRequest, client: String? = nil) async throws(JobQueueError) -> Submission {
        let key = request.abm.seed != nil ? ResultCache.key(for: request) : nil
        let job = JobRecord(
            id: Self.newID("abm_"), kind: .abm, createdAt: now(), totalMonths: request.token.horizonMonths,
            seed: request.abm.seed ?? SplitMix64.freshSeed(), cacheKey: key, client: client)
        return try await admit(NewJob(job: job, request: JSONWriter.bytes(request.canonicalJSON), cachedID: Self.newID("cached_")))
    }

    /// Stores a new Monte Carlo job. The request must carry `monte_carlo` settings.
    public func submitMonteCarlo(_ request: ABMRequest, client: String? = nil) async throws(JobQueueError) -> Submission {
        let settings = request.monteCarlo ?? MonteCarloSettings()
        let job = JobRecord(
            id: Self.newID("mc_"), kind: .monteCarlo, createdAt: now(), totalMonths: settings.numTrials,
            seed: settings.seed ?? SplitMix64.freshSeed(), client: client)
        return try await admit(NewJob(job: job, request: JSONWriter.bytes(request.canonicalJSON), cachedID: Self.newID("cached_")))
    }

    /// Admission as a producer span, child of the submitting request's span: its `traceparent` is stored with
    /// the job, so each run (here or on another instance, before or after a restart) links to it.
    func admit(_ submission: NewJob) async throws(JobQueueError) -> Submission {
        let tracer = configuration.tracer
        let span = tracer.startSpan("job submit", context: InstrumentationContext.current ?? .topLevel, ofKind: .producer)
        defer { span.end() }
        var submission = submission
        submission.job.traceparent = JobTrace.stored(span.context, tracer: tracer)
        span.updateAttributes { a in
            a["abm.job.id"] = submission.job.id
            a["abm.job.kind"] = submission.job.kind.rawValue
        }
        do {
            let admitted = try await admitted(submission)
            span.updateAttributes { a in
                a["abm.job.cached"] = admitted.cached
                if admitted.cached { a["abm.job.id"] = admitted.job.id }
            }
            return admitted
        } catch {
            span.updateAttributes { $0["error.type"] = error.kind }
            if case .storeUnavailable = error { span.setStatus(SpanStatus(code: .error)) }
            throw error
        }
    }

    private func admitted(_ submission: NewJob) async throws(JobQueueError) -> Submission {
        if draining { throw .draining }
        guard await recover() else { throw .storeUnavailable(storeFault ?? "job store not recovered") }
        if let reason = configuration.admissionCheck?() {
            metrics.refused("disk")
            throw .insufficientStorage(reason)
        }
        let limits = AdmissionLimits(
            maxQueued: configuration.maxQueuedJobs, maxQueuedPerClient: configuration.maxQueuedJobsPerClient,
            cacheMaxAge: configuration.cacheMaxAge)
        let outcome: Admission
        do {
            outcome = try await store.admit(submission, limits: limits, now: now())
        } catch {
            throw fault(error)
        }
        let kind = submission.job.kind
        switch outcome {
        case .queued(let job):
            if job.cacheKey != nil { metrics.cache(hit: false) }
            metrics.submitted(kind.rawValue)
            wake.yield()
            signals?.post(.queued)
            return Submission(job: job, cached: false)
        case .cached(let job):
            metrics.cache(hit: true)
            metrics.submitted("cached")
            return Submission(job: job, cached: true)
        case .queueFull(let running, let queued):
            metrics.refused("queue_full")
            throw .queueFull(
                running: running, queued: queued, maxQueued: configuration.maxQueuedJobs, retryAfterSeconds: 5)
        case .clientQuotaFull(let queued):
            metrics.refused("client_quota")
            throw .clientQuotaFull(queued: queued, maxPerClient: configuration.maxQueuedJobsPerClient, retryAfterSeconds: 5)
        }
    }

    /// Cancels a queued job at once, or a running job at its next month (here, or wherever it runs).
    public func cancel(_ id: String) async throws(JobQueueError) {
        let outcome: CancelOutcome
        do {
            outcome = try await store.cancel(id, now: now())
        } catch {
            throw fault(error)
        }
        switch outcome {
        case .cancelled(let job):
            metrics.finished(job.kind, status: .cancelled, seconds: nil)
            hub.publish(snapshot(of: job))
        case .requested:
            if let flag = running[id] {
                flag.cancelled.store(true, ordering: .relaxed)
            } else {
                // It runs on another instance: tell it now (its next lease renewal would find out anyway).
                signals?.post(.cancel(id))
            }
        case .notFound:
            throw .notFound(id)
        case .notCancellable:
            throw .notCancellable(id)
        }
    }
}
