import Foundation
import Logging
import Simulation
import Synchronization
import Tracing

/// Running: claim with a lease, run on a worker thread, renew the lease while running, and end the run
/// with a write fenced by the lease. A status write that fails is retried; one that still fails is logged
/// and counted, and the store's state (the job still `running`, its lease expiring) is reconciled by the
/// next recovery or rescue, never silently dropped.
extension JobQueue {
    /// The next pending job, claimed with a lease, while this process has a free slot.
    func claimNext() async -> ClaimedJob? {
        guard recovered, !draining, running.count < configuration.maxConcurrentJobs else { return nil }
        let claimed: ClaimedJob?
        do {
            claimed = try await store.claim(owner: owner, leaseSeconds: configuration.leaseSeconds, now: now())
        } catch {
            _ = fault(error)
            return nil
        }
        guard let claimed else { return nil }
        // Only the dispatcher adds to `running`, one claim at a time, so the bound holds across the await.
        let flag = CancelFlag()
        if draining { flag.interrupted.store(true, ordering: .relaxed) }
        running[claimed.job.id] = flag
        return claimed
    }

    typealias Outcome = Result<(upload: ResultUpload, lastChunks: [[UInt8]], agentMonths: Int), any Error>

    /// Runs a claimed job, then each job its completion claimed for the same slot.
    func execute(_ claimed: ClaimedJob) async {
        var current: ClaimedJob? = claimed
        while let job = current { current = await runOnce(job) }
    }

    /// One run, as a consumer span linked to the submission's span (a new trace: a run may start long after,
    /// on another instance); every log line of the run carries its ids. Returns the next job when its
    /// completion also claimed one (see `handOver`).
    func runOnce(_ claimed: ClaimedJob) async -> ClaimedJob? {
        let tracer = configuration.tracer
        let span = tracer.startSpan("job run", context: .topLevel, ofKind: .consumer)
        if let traceparent = claimed.job.traceparent, let submitted = JobTrace.context(traceparent: traceparent, tracer: tracer) {
            span.addLink(SpanLink(context: submitted, attributes: ["abm.link": "submission"]))
        }
        span.updateAttributes { a in
            a["abm.job.id"] = claimed.job.id
            a["abm.job.kind"] = claimed.job.kind.rawValue
            a["abm.job.attempt"] = claimed.job.attempts
            a["abm.job.rescues"] = claimed.job.rescues
            a["abm.instance"] = configuration.instanceID
        }
        defer { span.end() }
        return await InstrumentationContext.$current.withValue(span.context) { await run(claimed) }
    }

    private func run(_ claimed: ClaimedJob) async -> ClaimedJob? {
        let id = claimed.job.id
        guard let flag = running[id] else { return nil }
        hub.publish(snapshot(of: claimed.job))
        let clock = ContinuousClock()
        let began = clock.now
        let outcome = await withTaskGroup(of: Outcome?.self) { group -> Outcome in
            group.addTask { [weak self] in
                await self?.renewLoop(claimed.lease, flag: flag)
                return nil
            }
            group.addTask { [workers, hub, store, configuration, now] in
                await Self.simulate(
                    claimed, flag: flag, workers: workers, hub: hub, store: store, now: now, hook: configuration.progressHook,
                    tracer: configuration.tracer)
            }
            var result: Outcome = .failure(SimulationError.cancelled)
            for await r in group {
                if let r {
                    result = r
                    group.cancelAll()
                }
            }
            return result
        }
        return await finish(claimed, outcome: outcome, flag: flag, seconds: (clock.now - began).seconds)
    }

    /// Runs the simulation on a worker thread; progress goes to the hub, and the cancel flag is polled
    /// after every month (or trial). The same thread then encodes the result in chunks, which are written
    /// to the store as a staged result while it encodes (a few chunks ahead at most): no result exists
    /// whole in memory, whatever its size.
    static func simulate(
        _ claimed: ClaimedJob, flag: CancelFlag, workers: WorkerPool, hub: JobProgressHub, store: any JobStore,
        now: @escaping @Sendable () -> Date, hook: (@Sendable (String, Int) -> Void)?, tracer: any Tracer
    ) async -> Outcome {
        // Two phases as child spans of the run: the engine, then writing the result to the store (encoding
        // happens while it is written).
        let parent = InstrumentationContext.current ?? .topLevel
        let compute = tracer.startSpan("job compute", context: parent)
        let computeEnding = SpanEnd(compute)
        let id = claimed.job.id
        let progress: ProgressHandler = { done, total in
            hub.progress(id, month: done, total: total)
            hook?(id, done)
            return !flag.stop
        }
        let requestBytes = claimed.request
        let seed = claimed.job.seed
        let kind = claimed.job.kind
        let clock = ContinuousClock()
        let began = clock.now
        let agentMonths = Box<Int>()
        // The store is the reader: it takes each chunk within seconds, unless it is failing.
        let channel = ChunkChannel(capacity: 4, stallTimeout: .seconds(300))
        do {
            try await workers.stream(into: channel, chunkSize: ResultChunking.chunkBytes) { () throws -> JSONStream in
                let request = try ABMRequestDecoder.decode(bytes: requestBytes).get()
                switch kind {
                case .abm:
                    var r = request
                    r.abm.seed = seed
                    var result = try ABMSimulation.run(r, progress: progress)
                    result.executionTimeSeconds = (clock.now - began).seconds
                    guard result.isFinite else { throw SimulationError.overflow }
                    agentMonths.value = result.numAgents * result.globalMetrics.count
                    computeEnding.end()
                    return result.jsonStream()
                case .monteCarlo:
                    var result = try MonteCarloEngine.run(
                        request, settings: request.monteCarlo ?? MonteCarloSettings(), seed: seed, progress: progress)
                    result.executionTimeSeconds = (clock.now - began).seconds
                    guard result.isFinite else { throw SimulationError.overflow }
                    agentMonths.value = PopulationPlan(request).totalAgents * request.token.horizonMonths * result.trials.count
                    computeEnding.end()
                    return result.jsonStream()
                }
            }
        } catch {
            compute.setStatus(SpanStatus(code: .error))
            computeEnding.end()
            return .failure(error)
        }
        let write = tracer.startSpan("job write result", context: parent)
        defer { write.end() }
        do {
            guard var upload = try await store.beginResult(claimed.lease, now: now()) else { return lost(flag, channel) }
            var batch: [[UInt8]] = []
            while let chunk = try await channel.next() {
                batch.append(chunk)
                guard batch.count == 4 else { continue }
                guard let next = try await store.appendResult(upload, chunks: batch) else { return lost(flag, channel) }
                upload = next
                batch.removeAll()
            }
            if batch.isEmpty && upload.chunks == 0 { batch = [[]] }
            // A store that writes the last chunks with the completion gets them there (one round trip for a
            // small result); the others get them now.
            if !batch.isEmpty && !store.completesWithLastChunks {
                guard let next = try await store.appendResult(upload, chunks: batch) else { return lost(flag, channel) }
                upload = next
                batch = []
            }
            write.updateAttributes { $0["abm.result.chunks"] = upload.chunks + batch.count }
            return .success((upload, batch, agentMonths.value ?? 0))
        } catch {
            write.setStatus(SpanStatus(code: .error))
            channel.cancel()
            return .failure(ResultWriteError(underlying: error))
        }
    }

    /// The lease went while the result was being written: the run stops and what it wrote is swept.
    static func lost(_ flag: CancelFlag, _ channel: ChunkChannel) -> Outcome {
        flag.leaseLost.store(true, ordering: .relaxed)
        channel.cancel()
        return .failure(SimulationError.cancelled)
    }

    /// Writing a finished result to the store failed.
    struct ResultWriteError: Error {
        let underlying: any Error
    }

    /// A wait for a worker slot or a result write cut short by task cancellation, not a failure of the run.
    static func isCancellation(_ error: any Error) -> Bool {
        let cause = (error as? ResultWriteError)?.underlying ?? error
        return cause is CancellationError || (cause as? ChunkChannel.Failure) == .readerGone
    }

    /// Renews the lease every lease/3 with the current progress. A renewal that finds the lease gone stops
    /// the run and makes it write nothing; one that finds a cancel request (from any instance) cancels it.
    func renewLoop(_ lease: Lease, flag: CancelFlag) async {
        let interval = max(0.05, configuration.leaseSeconds / 3)
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(interval))
            if Task.isCancelled { return }
            let month = hub.snapshot(lease.jobID)?.currentMonth ?? 0
            do {
                let state = try await store.renew(lease, currentMonth: month, leaseSeconds: configuration.leaseSeconds, now: now())
                guard let state else {
                    flag.leaseLost.store(true, ordering: .relaxed)
                    metrics.leaseLost()
                    logger.warning("job lease lost; the run stops and writes nothing", metadata: ["job_id": "\(lease.jobID)"])
                    return
                }
                if state.cancelRequested { flag.cancelled.store(true, ordering: .relaxed) }
            } catch is CancellationError {
                return
            } catch {
                metrics.storeError()
                logger.warning("job lease renewal failed", metadata: ["job_id": "\(lease.jobID)", "error": "\(error)"])
            }
        }
    }

    func finish(_ claimed: ClaimedJob, outcome: Outcome, flag: CancelFlag, seconds: Double) async -> ClaimedJob? {
        let id = claimed.job.id
        var next: ClaimedJob?
        let lease = claimed.lease
        var job = claimed.job
        let cancelled = flag.cancelled.load(ordering: .relaxed)
        let month = hub.snapshot(id)?.currentMonth ?? 0
        let interrupted = flag.interrupted.load(ordering: .relaxed) && !cancelled
        if flag.leaseLost.load(ordering: .relaxed) {
            // Someone else owns the job now: whatever this run produced is discarded.
            ended(id)
            return nil
        }
        switch outcome {
        case .success(let (upload, lastChunks, agentMonths)):
            metrics.simulation(engine: job.kind.rawValue, agentMonths: agentMonths, seconds: seconds)
            let max = configuration.cacheMaxEntries
            let key = job.cacheKey
            // While this instance takes work, the completion also claims the slot's next job.
            let claimFor: String? = draining ? nil : owner
            let leaseSeconds = configuration.leaseSeconds
            let claimed = Mutex<ClaimedJob?>(nil)
            let completion = configuration.tracer.startSpan("job complete", context: InstrumentationContext.current ?? .topLevel)
            defer { completion.end() }
            switch await persist(id, "complete", { [store, now] in
                let (done, following) = try await store.complete(
                    lease, upload: upload, lastChunks: lastChunks, cacheKey: key, cacheMaxEntries: max, now: now(),
                    thenClaimFor: claimFor, leaseSeconds: leaseSeconds)
                claimed.withLock { $0 = following }
                return done
            }) {
            case .written:
                job.status = .completed
                job.currentMonth = job.totalMonths
                next = claimed.withLock { $0 }
            case .fenced:
                ended(id)
                return nil
            case .failed:
                job = await failed(job, lease, error: "the result could not be stored (job store error); submit the job again", month: month, type: "StoreError")
            }
        case .failure(let error) where (interrupted && (error as? SimulationError) == .cancelled) || Self.isCancellation(error):
            // Shutdown (or the queue's own task cancelled past its deadline): the run did not fail; the job goes
            // back to the queue at once, to run again from the start on the next start.
            if await persist(id, "release", { [store] in try await store.release(lease) }) == .written {
                logger.info("job interrupted by shutdown; it will run again", metadata: ["job_id": "\(id)"])
                // Another instance can take it at once.
                signals?.post(.queued)
            }
            job.status = .pending
        case .failure(let e as ResultWriteError):
            metrics.storeError()
            logger.error("job result could not be stored", metadata: ["job_id": "\(id)", "detail": "\(e.underlying)"])
            job = await failed(job, lease, error: "the result could not be stored (job store error); submit the job again", month: month, type: "StoreError")
        case .failure(SimulationError.cancelled):
            _ = await persist(id, "cancel", { [store, now] in try await store.cancelled(lease, currentMonth: month, now: now()) })
            job.status = .cancelled
            job.currentMonth = month
        case .failure(let error):
            logger.debug("job run failed", metadata: ["job_id": "\(id)", "detail": "\(error)"])
            job = await failed(job, lease, error: Self.clientMessage(error), month: month, type: String(describing: type(of: error)))
        }
        if job.status.isTerminal {
            metrics.finished(job.kind, status: job.status, seconds: job.status == .completed ? seconds : nil)
        }
        hub.publish(snapshot(of: job))
        if let next { return handOver(from: id, to: next) }
        ended(id)
        return nil
    }

    /// The slot of the run that ended goes to the job its completion claimed, with no await between, so
    /// `running` never exceeds the bound (the dispatcher counts the slot as taken throughout). A drain that
    /// began meanwhile interrupts the new run at once, and it is handed back like any running job.
    func handOver(from id: String, to next: ClaimedJob) -> ClaimedJob {
        running[id] = nil
        hub.forget(id)
        let flag = CancelFlag()
        if draining { flag.interrupted.store(true, ordering: .relaxed) }
        running[next.job.id] = flag
        return next
    }

    /// Records a failed run (fenced) and, once recorded, its error event.
    /// What a job's `error` says: the simulation's own message, or a plain sentence; never a type name or
    /// a path of this machine (those go to the log with `type`).
    static func clientMessage(_ error: any Error) -> String {
        switch error {
        case let e as SimulationError: return e.description
        case let f as ValidationFailure: return "The stored request is no longer valid: \(f.summary)"
        default: return "The simulation failed; submit the job again."
        }
    }

    func failed(_ job: JobRecord, _ lease: Lease, error: String, month: Int, type: String) async -> JobRecord {
        var job = job
        job.status = .failed
        job.error = error
        job.currentMonth = month
        if await persist(job.id, "fail", { [store, now] in try await store.fail(lease, error: error, currentMonth: month, now: now()) }) == .written {
            reportFailure(job, type: type)
        }
        return job
    }

    /// Drops a run from the working set and lets the dispatcher claim the next job.
    func ended(_ id: String) {
        running[id] = nil
        hub.forget(id)
        if running.isEmpty {
            let waiters = idleWaiters
            idleWaiters = []
            for w in waiters { w.resume() }
        }
        if !draining { wake.yield() }
    }

    enum WriteOutcome: Equatable { case written, fenced, failed }

    /// A run's final write, retried (3 tries, 0.1 s then 0.5 s apart) and shielded from the cancellation of
    /// the queue's task, so shutdown never loses it. `false` from the store means the lease was gone.
    func persist(_ id: String, _ operation: String, _ write: @escaping @Sendable () async throws -> Bool) async -> WriteOutcome {
        let delays: [Double] = [0.1, 0.5]
        var attempt = 0
        while true {
            let result = await Task { try await write() }.result
            switch result {
            case .success(true):
                return .written
            case .success(false):
                metrics.fencedWrite()
                logger.warning(
                    "job write refused: the lease was taken over", metadata: ["job_id": "\(id)", "operation": "\(operation)"])
                return .fenced
            case .failure(let error):
                metrics.storeError()
                if attempt < delays.count {
                    try? await Task.sleep(for: .seconds(delays[attempt]))
                    attempt += 1
                    continue
                }
                metrics.stateWriteFailed(operation)
                logger.error(
                    "job state could not be written; the store still has it running, and recovery reconciles it",
                    metadata: [
                        "event": "job_state_write_failed", "job_id": "\(id)", "operation": "\(operation)", "error": "\(error)",
                    ])
                return .failed
            }
        }
    }

    /// The error event of a failed job (type, message, fingerprint, its trace), and the run's span marked failed.
    func reportFailure(_ job: JobRecord, type: String) {
        let message = job.error ?? ""
        if let context = InstrumentationContext.current, let span = configuration.tracer.activeSpan(identifiedBy: context) {
            span.setStatus(SpanStatus(code: .error, message: type))
        }
        let metadata: Logger.Metadata = ["job_id": .string(job.id), "job_kind": .string(job.kind.rawValue)]
        if let report = configuration.errorReporter {
            report(type, message, logger, metadata)
        } else {
            logger.error("job failed", metadata: metadata.merging(["event": "job_failed", "error_type": .string(type), "error": .string(message)]) { $1 })
        }
    }
}
