import CoreMetrics
import Foundation
import Logging
import ServiceLifecycle
import Simulation
import Synchronization

/// The durable job queue: jobs are stored before submission is answered, run at most
/// `maxConcurrentJobs` at a time on worker threads, stream their progress, and survive restarts (queued
/// and interrupted jobs run again from their stored request and seed, so they give the same result).
public actor JobQueue: Service {
    public let configuration: JobQueueConfiguration
    public let store: any JobStore
    public nonisolated let hub = JobProgressHub()
    private let workers: WorkerPool
    private let now: @Sendable () -> Date
    private let logger: Logger
    private let metrics: JobMetrics

    private var records: [String: JobRecord] = [:]
    private var order: [String] = []
    private var pending: [String] = []
    private var running: [String: CancelFlag] = [:]
    private var cache: ResultCache
    private var started: (AsyncStream<String>.Continuation)?
    private var recovered = false
    private var draining = false
    private var storeFault: String?
    private let recoveredSignal = AsyncStream<Void>.makeStream()

    /// Set by cancel (the job ends `cancelled`) or by shutdown (the job goes back to `pending`).
    final class CancelFlag: Sendable {
        let cancelled = Atomic(false)
        let interrupted = Atomic(false)
        var stop: Bool { cancelled.load(ordering: .relaxed) || interrupted.load(ordering: .relaxed) }
    }

    public init(
        store: any JobStore, configuration: JobQueueConfiguration = JobQueueConfiguration(),
        logger: Logger = Logger(label: "abm.jobs"), metrics: (any MetricsFactory)? = nil,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.metrics = JobMetrics(factory: metrics ?? MetricsSystem.factory)
        self.store = store
        self.configuration = configuration
        self.workers = WorkerPool(width: configuration.maxConcurrentJobs)
        self.cache = ResultCache(maxEntries: configuration.cacheMaxEntries, maxAge: configuration.cacheMaxAge)
        self.logger = logger
        self.now = now
    }

    // MARK: Service

    /// Recovers stored jobs, then runs jobs until graceful shutdown; running jobs are then interrupted at
    /// their next month and left `pending`, to run again on the next start.
    public func run() async throws {
        let (starts, continuation) = AsyncStream.makeStream(of: String.self)
        started = continuation
        await recover()
        pump()
        await withDiscardingTaskGroup { group in
            group.addTask { [weak self] in await self?.sweepLoop() }
            group.addTask { [weak self] in
                // Returns on graceful shutdown, or throws when the service is cancelled: both mean stop.
                try? await gracefulShutdown()
                await self?.beginDrain()
            }
            for await id in starts {
                group.addTask { [weak self] in await self?.execute(id) }
            }
            group.cancelAll()
        }
    }

    private func beginDrain() {
        guard !draining else { return }
        draining = true
        logger.info("job queue draining", metadata: ["running": "\(running.count)", "queued": "\(pending.count)"])
        for flag in running.values { flag.interrupted.store(true, ordering: .relaxed) }
        if running.isEmpty { started?.finish() }
    }

    private func sweepLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(configuration.sweepInterval))
            if Task.isCancelled { return }
            _ = await sweep()
        }
    }

    /// Loads stored jobs: finished ones answer status calls, queued and interrupted ones run again.
    public func recover() async {
        guard !recovered else { return }
        do {
            let all = try await store.allJobs()
            var resumed = 0
            for var job in all {
                if job.status == .running {
                    job.status = .pending
                    try await store.update(job)
                    resumed += 1
                }
                records[job.id] = job
                order.append(job.id)
                if job.status == .pending { pending.append(job.id) }
                if job.status == .completed, let key = job.cacheKey, !job.cached, let done = job.completedAt {
                    cache.store(key, jobID: job.id, at: done)
                }
                hub.publish(snapshot(of: job))
            }
            cache.evict(now: now())
            recovered = true
            storeFault = nil
            logger.info(
                "job queue recovered",
                metadata: ["jobs": "\(all.count)", "queued": "\(pending.count)", "interrupted": "\(resumed)"])
        } catch {
            storeFault = "\(error)"
            logger.error("job store unavailable at startup", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Submission

    public struct Submission: Sendable {
        public var job: JobRecord
        public var cached: Bool
    }

    /// Stores a new ABM job (or answers from the cache) and queues it.
    public func submitABM(_ request: ABMRequest) async throws(JobQueueError) -> Submission {
        try await ensureUsable()
        let t = now()
        var key: String?
        if request.abm.seed != nil {
            let k = ResultCache.key(for: request)
            key = k
            let hitID = cache.lookup(k, now: t)
            metrics.cache(hit: hitID != nil)
            if let hitID, let hit = records[hitID], let body = try? await store.result(hitID) {
                var job = JobRecord(
                    id: Self.newID("cached_"), kind: .abm, status: .completed, createdAt: t, startedAt: t, completedAt: t,
                    currentMonth: hit.totalMonths, totalMonths: hit.totalMonths, request: hit.request, seed: hit.seed,
                    cacheKey: k, cached: true)
                do {
                    try await store.insert(job)
                    try await store.complete(job, result: body)
                } catch {
                    throw fault(error)
                }
                job.status = .completed
                remember(job)
                metrics.submitted("cached")
                return Submission(job: job, cached: true)
            }
        }
        let job = JobRecord(
            id: Self.newID("abm_"), kind: .abm, createdAt: t, totalMonths: request.token.horizonMonths,
            request: JSONWriter.bytes(request.canonicalJSON), seed: request.abm.seed ?? SplitMix64.freshSeed(), cacheKey: key)
        try await enqueue(job)
        return Submission(job: job, cached: false)
    }

    /// Stores a new Monte Carlo job and queues it. The request must carry `monte_carlo` settings.
    public func submitMonteCarlo(_ request: ABMRequest) async throws(JobQueueError) -> Submission {
        try await ensureUsable()
        let settings = request.monteCarlo ?? MonteCarloSettings()
        let job = JobRecord(
            id: Self.newID("mc_"), kind: .monteCarlo, createdAt: now(), totalMonths: settings.numTrials,
            request: JSONWriter.bytes(request.canonicalJSON), seed: settings.seed ?? SplitMix64.freshSeed())
        try await enqueue(job)
        return Submission(job: job, cached: false)
    }

    private func ensureUsable() async throws(JobQueueError) {
        if draining { throw .draining }
        if !recovered { await recover() }
        if let storeFault, !recovered { throw .storeUnavailable(storeFault) }
    }

    private func enqueue(_ job: JobRecord) async throws(JobQueueError) {
        if pending.count >= configuration.maxQueuedJobs {
            throw .queueFull(
                running: running.count, queued: pending.count, maxQueued: configuration.maxQueuedJobs,
                retryAfterSeconds: 5)
        }
        do {
            try await store.insert(job)
        } catch {
            throw fault(error)
        }
        remember(job)
        pending.append(job.id)
        metrics.submitted(job.kind.rawValue)
        pump()
    }

    private func fault(_ error: any Error) -> JobQueueError {
        metrics.storeError()
        logger.error("job store operation failed", metadata: ["error": "\(error)"])
        return .storeUnavailable("\(error)")
    }

    private func remember(_ job: JobRecord) {
        if records[job.id] == nil { order.append(job.id) }
        records[job.id] = job
        hub.publish(snapshot(of: job))
    }

    static func newID(_ prefix: String) -> String {
        prefix + String(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(12))
    }

    /// Starts queued jobs while there is room.
    private func pump() {
        guard recovered, !draining, let started else { return }
        while running.count < configuration.maxConcurrentJobs, !pending.isEmpty {
            let id = pending.removeFirst()
            running[id] = CancelFlag()
            started.yield(id)
        }
    }

    // MARK: Running

    private func execute(_ id: String) async {
        guard var job = records[id], let flag = running[id] else { return }
        job.status = .running
        job.startedAt = now()
        job.attempts += 1
        job.currentMonth = 0
        records[id] = job
        hub.publish(snapshot(of: job))
        try? await store.update(job)

        let hub = self.hub
        let hook = configuration.progressHook
        let progress: ProgressHandler = { done, total in
            hub.progress(id, month: done, total: total)
            hook?(id, done)
            return !flag.stop
        }
        let clock = ContinuousClock()
        let began = clock.now
        let requestBytes = job.request
        let seed = job.seed
        let kind = job.kind
        let outcome: Result<(body: [UInt8], agentMonths: Int), any Error>
        do {
            outcome = .success(try await workers.run { () throws -> (body: [UInt8], agentMonths: Int) in
                let request = try ABMRequestDecoder.decode(bytes: requestBytes).get()
                switch kind {
                case .abm:
                    var r = request
                    r.abm.seed = seed
                    var result = try ABMSimulation.run(r, progress: progress)
                    result.executionTimeSeconds = (clock.now - began).seconds
                    return (JSONWriter.bytes(try result.json().requireFinite()), result.numAgents * result.globalMetrics.count)
                case .monteCarlo:
                    var result = try MonteCarloEngine.run(
                        request, settings: request.monteCarlo ?? MonteCarloSettings(), seed: seed, progress: progress)
                    result.executionTimeSeconds = (clock.now - began).seconds
                    let agents = PopulationPlan(request).totalAgents
                    return (JSONWriter.bytes(try result.json().requireFinite()), agents * request.token.horizonMonths * result.trials.count)
                }
            })
        } catch {
            outcome = .failure(error)
        }
        await finish(id, outcome: outcome, flag: flag, seconds: (clock.now - began).seconds)
    }

    private func finish(
        _ id: String, outcome: Result<(body: [UInt8], agentMonths: Int), any Error>, flag: CancelFlag, seconds: Double
    ) async {
        guard var job = records[id] else { return }
        running[id] = nil
        if let live = hub.snapshot(id) { job.currentMonth = live.currentMonth }
        let interrupted = flag.interrupted.load(ordering: .relaxed) && !flag.cancelled.load(ordering: .relaxed)
        switch outcome {
        case .success(let (body, agentMonths)):
            job.status = .completed
            job.completedAt = now()
            job.currentMonth = job.totalMonths
            metrics.simulation(engine: job.kind.rawValue, agentMonths: agentMonths, seconds: seconds)
            do {
                try await store.complete(job, result: body)
                if let key = job.cacheKey { cache.store(key, jobID: id, at: job.completedAt!) }
            } catch {
                job.status = .failed
                job.error = "result could not be stored: \(error)"
                try? await store.update(job)
                metrics.storeError()
                reportFailure(job, type: "StoreError")
            }
        case .failure(SimulationError.cancelled) where interrupted:
            // Shutdown: back to the queue, to run again from the start on the next start.
            job.status = .pending
            job.currentMonth = 0
            try? await store.update(job)
            logger.info("job interrupted by shutdown; it will run again", metadata: ["job_id": "\(id)"])
        case .failure(SimulationError.cancelled):
            job.status = .cancelled
            job.completedAt = now()
            try? await store.update(job)
        case .failure(let error):
            job.status = .failed
            job.completedAt = now()
            job.error = "\(error)"
            try? await store.update(job)
            reportFailure(job, type: String(describing: type(of: error)))
        }
        if job.status.isTerminal {
            metrics.finished(job.kind, status: job.status, seconds: job.status == .completed ? seconds : nil)
        }
        records[id] = job
        hub.publish(snapshot(of: job))
        if draining {
            if running.isEmpty { started?.finish() }
        } else {
            pump()
        }
    }

    /// The error event of a failed job: type and a stable fingerprint, logged and counted.
    private func reportFailure(_ job: JobRecord, type: String) {
        let message = job.error ?? ""
        metrics.error(source: "job", type: type)
        logger.error(
            "job failed",
            metadata: [
                "event": "job_failed", "job_id": "\(job.id)", "error_type": "\(type)",
                "fingerprint": "\(ErrorFingerprint.make(type: type, message: message))", "error": "\(message)",
            ])
    }

    // MARK: Queries and commands

    func snapshot(of job: JobRecord) -> JobSnapshot {
        JobSnapshot(
            jobID: job.id, status: job.status, currentMonth: job.currentMonth, totalMonths: job.totalMonths,
            error: job.error)
    }

    /// The job with live progress.
    public func job(_ id: String) -> JobRecord? {
        guard var job = records[id] else { return nil }
        if job.status == .running, let live = hub.snapshot(id) {
            job.currentMonth = live.currentMonth
            job.totalMonths = live.totalMonths
        }
        return job
    }

    public func jobs() -> [JobRecord] { order.compactMap { job($0) } }

    /// The stored result of a completed job.
    public func result(_ id: String) async throws(JobQueueError) -> [UInt8]? {
        do {
            return try await store.result(id)
        } catch {
            throw fault(error)
        }
    }

    /// Cancels a queued job at once, or a running job at its next month.
    public func cancel(_ id: String) async throws(JobQueueError) {
        guard var job = records[id] else { throw .notFound(id) }
        switch job.status {
        case .running:
            running[id]?.cancelled.store(true, ordering: .relaxed)
        case .pending:
            pending.removeAll { $0 == id }
            job.status = .cancelled
            job.completedAt = now()
            records[id] = job
            try? await store.update(job)
            metrics.finished(job.kind, status: .cancelled, seconds: nil)
            hub.publish(snapshot(of: job))
        default:
            throw .notCancellable(id)
        }
    }

    public struct Stats: Sendable, Equatable {
        public var counts: JobCounts
        public var cacheSize: Int
        public var maxConcurrentJobs: Int
        public var maxQueuedJobs: Int
    }

    public func stats() -> Stats {
        var counts = JobCounts()
        for job in records.values { counts.byStatus[job.status, default: 0] += 1 }
        return Stats(
            counts: counts, cacheSize: cache.count, maxConcurrentJobs: configuration.maxConcurrentJobs,
            maxQueuedJobs: configuration.maxQueuedJobs)
    }

    /// Ready to take work: recovered, not draining, and the store accepts writes.
    public func readiness() async -> (ready: Bool, reason: String?) {
        if draining { return (false, "draining") }
        if !recovered { await recover() }
        guard recovered else { return (false, storeFault ?? "job store not recovered") }
        do {
            try await store.checkWritable()
            return (true, nil)
        } catch {
            return (false, "\(error)")
        }
    }

    public var isDraining: Bool { draining }

    /// Whether startup recovery has finished (the store was opened, migrated and its jobs requeued).
    public var hasRecovered: Bool { recovered }

    /// Deletes terminal jobs older than the TTL and the cache entries that pointed at them.
    @discardableResult
    public func sweep() async -> [String] {
        let t = now()
        do {
            let deleted = try await store.deleteTerminal(completedBefore: t.addingTimeInterval(-configuration.jobTTL))
            let gone = Set(deleted)
            for id in deleted { records[id] = nil }
            order.removeAll { gone.contains($0) }
            cache.evict(now: t, deletedJobs: gone)
            hub.remove(deleted)
            if !deleted.isEmpty { logger.info("expired jobs deleted", metadata: ["count": "\(deleted.count)"]) }
            return deleted
        } catch {
            logger.error("job sweep failed", metadata: ["error": "\(error)"])
            return []
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
