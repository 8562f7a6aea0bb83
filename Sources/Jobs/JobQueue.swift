import CoreMetrics
import Foundation
import Logging
import ServiceLifecycle
import Simulation
import Synchronization

/// The durable job queue over a `JobStore`, which holds the truth: this actor keeps only a bounded working set
/// (the jobs it is running, with their leases and cancel flags, and the recovery state). Jobs are admitted in
/// one store transaction (`JobQueue+Admission`), claimed with a lease and run on worker threads at most
/// `maxConcurrentJobs` at a time (`JobQueue+Running`), recovered once at start (`JobQueue+Recovery`) and
/// deleted after their TTL (`JobQueue+Sweep`).
public actor JobQueue: Service {
    public let configuration: JobQueueConfiguration
    public nonisolated let store: any JobStore
    public nonisolated let hub = JobProgressHub()
    let workers: WorkerPool
    let now: @Sendable () -> Date
    let logger: Logger
    let metrics: JobMetrics
    /// Names this process in leases.
    let owner: String
    /// Signals to and from the other instances sharing the store (PostgreSQL); nil for an embedded store.
    nonisolated let signals: (any JobSignalling)?

    /// The jobs this process is running, with their cancel flags: at most `maxConcurrentJobs`.
    var running: [String: CancelFlag] = [:]
    var draining = false
    var recovered = false
    /// The recovery in flight, awaited by every caller (single flight).
    var recovery: Task<Bool, Never>?
    var storeFault: String?
    var recoveryFailures = 0
    /// Wakes the dispatcher: a submission, a finished job, recovery, the periodic tick.
    let wakeups: AsyncStream<Void>
    let wake: AsyncStream<Void>.Continuation
    /// Resumed when the last running job has ended during a drain.
    var idleWaiters: [CheckedContinuation<Void, Never>] = []

    /// Set by cancel (the job ends `cancelled`), by shutdown (the job goes back to `pending`) or by a lost
    /// lease (the job is someone else's now: stop, write nothing).
    final class CancelFlag: Sendable {
        let cancelled = Atomic(false)
        let interrupted = Atomic(false)
        let leaseLost = Atomic(false)
        var stop: Bool {
            cancelled.load(ordering: .relaxed) || interrupted.load(ordering: .relaxed) || leaseLost.load(ordering: .relaxed)
        }
    }

    public init(
        store: any JobStore, configuration: JobQueueConfiguration = JobQueueConfiguration(),
        logger: Logger = Logger(label: "abm.jobs"), metrics: (any MetricsFactory)? = nil,
        now: @escaping @Sendable () -> Date = { Date() }, signals: (any JobSignalling)? = nil
    ) {
        self.metrics = JobMetrics(factory: metrics ?? MetricsSystem.factory)
        self.store = store
        self.configuration = configuration
        self.workers = WorkerPool(width: configuration.maxConcurrentJobs)
        self.logger = logger
        self.now = now
        self.owner = configuration.instanceID
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.signals = signals
        if let signals {
            hub.setForwarder { signals.post(.progress($0)) }
            signals.setHandler { [weak self] signal in self?.received(signal) }
        }
    }

    /// A signal from another instance.
    nonisolated func received(_ signal: JobSignal) {
        switch signal {
        case .queued:
            wake.yield()
        case .cancel(let id):
            Task { await self.stopRunning(id) }
        case .progress(let snapshot):
            // Only for progress streams open here on a job that runs elsewhere.
            guard hub.relays(snapshot.jobID) else { return }
            if snapshot.status.isTerminal {
                // The end carries the job's error, which the signal does not: read it once.
                Task {
                    var s = snapshot
                    do {
                        s.error = try await store.job(snapshot.jobID)?.error
                    } catch {
                        // The stream still ends; its poll of the store reads the error once it can.
                        logger.warning("cannot read a relayed job's error", metadata: ["job_id": "\(snapshot.jobID)", "error": "\(error)"])
                    }
                    hub.relay(s)
                }
            } else {
                hub.relay(snapshot)
            }
        }
    }

    func stopRunning(_ id: String) {
        running[id]?.cancelled.store(true, ordering: .relaxed)
    }

    // MARK: Service

    /// Recovers stored jobs, then claims and runs jobs until graceful shutdown; running jobs are then
    /// interrupted at their next month and handed back to the queue, to run again on the next start.
    public func run() async throws {
        _ = await recover()
        await withDiscardingTaskGroup { group in
            group.addTask { [weak self] in await self?.sweepLoop() }
            group.addTask { [weak self] in await self?.tickLoop() }
            group.addTask { [weak self] in
                // Returns on graceful shutdown, or throws when the service is cancelled: both mean stop.
                try? await gracefulShutdown()
                await self?.beginDrain()
            }
            for await _ in wakeups {
                while let claimed = await claimNext() {
                    group.addTask { [weak self] in await self?.execute(claimed) }
                }
            }
            await waitUntilIdle()
            group.cancelAll()
        }
    }

    func beginDrain() {
        guard !draining else { return }
        draining = true
        logger.info("job queue draining", metadata: ["running": "\(running.count)"])
        for flag in running.values { flag.interrupted.store(true, ordering: .relaxed) }
        wake.finish()
    }

    func waitUntilIdle() async {
        if running.isEmpty { return }
        await withCheckedContinuation { idleWaiters.append($0) }
    }

    /// Wakes the dispatcher every poll interval: claims jobs whose wake-up was missed (the polling fallback
    /// of a lost notification), retries a failed recovery (so jobs recovered late still start) and, every
    /// `rescueInterval`, requeues runs whose lease expired.
    func tickLoop() async {
        let clock = ContinuousClock()
        var nextRescue = clock.now + .seconds(configuration.rescueInterval)
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(configuration.pollInterval))
            if Task.isCancelled || draining { return }
            if !recovered { _ = await recover() }
            if recovered, clock.now >= nextRescue {
                nextRescue = clock.now + .seconds(configuration.rescueInterval)
                await rescueExpired()
            }
            wake.yield()
        }
    }

    // MARK: Queries

    func snapshot(of job: JobRecord) -> JobSnapshot {
        JobSnapshot(
            jobID: job.id, status: job.status, currentMonth: job.currentMonth, totalMonths: job.totalMonths,
            error: job.error)
    }

    /// A job as stored, with live progress when it runs here.
    public func job(_ id: String) async throws(JobQueueError) -> JobRecord? {
        let stored: JobRecord?
        do {
            stored = try await store.job(id)
        } catch {
            throw fault(error)
        }
        return stored.map(withLiveProgress)
    }

    nonisolated func withLiveProgress(_ job: JobRecord) -> JobRecord {
        guard job.status == .running, let live = hub.snapshot(job.id), live.status == .running else { return job }
        var j = job
        j.currentMonth = live.currentMonth
        j.totalMonths = live.totalMonths
        return j
    }

    /// One page of jobs in submission order, after `cursor`.
    public func list(after cursor: Int64?, limit: Int) async throws(JobQueueError) -> JobPage {
        do {
            var page = try await store.list(after: cursor, limit: limit)
            page.jobs = page.jobs.map(withLiveProgress)
            return page
        } catch {
            throw fault(error)
        }
    }

    /// The stored result of a completed job, for streaming chunk by chunk.
    public func resultInfo(_ id: String) async throws(JobQueueError) -> ResultInfo? {
        do {
            return try await store.resultInfo(id)
        } catch {
            throw fault(error)
        }
    }

    public func resultChunk(_ info: ResultInfo, index: Int) async throws(JobQueueError) -> [UInt8]? {
        do {
            return try await store.resultChunk(info.resultID, index: index)
        } catch {
            throw fault(error)
        }
    }

    /// The whole result in memory: for tests and small results only; the API streams chunks.
    public func result(_ id: String) async throws(JobQueueError) -> [UInt8]? {
        guard let info = try await resultInfo(id) else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(info.bytes)
        for i in 0..<info.chunks {
            guard let chunk = try await resultChunk(info, index: i) else { return nil }
            out += chunk
        }
        return out
    }

    public struct Stats: Sendable, Equatable {
        public var counts: JobCounts
        public var cacheSize: Int
        public var maxConcurrentJobs: Int
        public var maxQueuedJobs: Int
        /// Seconds the oldest pending job has waited (0: none pending).
        public var oldestQueuedAge: Double = 0
    }

    /// Counts from the store's counters: the same cost at ten jobs or a million.
    public func stats() async throws(JobQueueError) -> Stats {
        let c: StoreCounts
        do {
            c = try await store.counts()
        } catch {
            throw fault(error)
        }
        return Stats(
            counts: c.jobs, cacheSize: c.cacheEntries, maxConcurrentJobs: configuration.maxConcurrentJobs,
            maxQueuedJobs: configuration.maxQueuedJobs, oldestQueuedAge: c.oldestPending.map { max(0, now().timeIntervalSince($0)) } ?? 0)
    }

    /// Ready to take work: recovered, not draining, and the store accepts writes.
    public func readiness() async -> (ready: Bool, reason: String?) {
        if draining { return (false, "draining") }
        guard await recover() else { return (false, storeFault ?? "job store not recovered") }
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

    /// Jobs running in this process now.
    public var runningCount: Int { running.count }

    func fault(_ error: any Error) -> JobQueueError {
        metrics.storeError()
        logger.error("job store operation failed", metadata: ["error": "\(error)"])
        return .storeUnavailable("\(error)")
    }

    static func newID(_ prefix: String) -> String {
        prefix + String(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(12))
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
