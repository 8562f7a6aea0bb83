import CoreMetrics
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// `JobSignal`s between instances over PostgreSQL `LISTEN/NOTIFY` on the channel `abm_jobs`.
///
/// Sending: `post` only records the signal; a sender task sends what accumulated as one `pg_notify` per
/// 7.9 KB, at most every 50 ms, keeping only the latest progress of each job (a worker thread reports every
/// month). Receiving: one session of its own LISTENs; it is checked every 5 s with a query under a
/// deadline, because a connection can die without a word (a NAT timeout, a failover). A lost session is
/// reopened with backoff (counted in `abm_job_notify_reconnects_total`), and every reconnect tells the
/// handler `.queued`, since what was sent meanwhile is unknown. None of this is needed for correctness:
/// see `JobSignal`.
public final class PostgresJobSignals: JobSignalling, Service {
    let client: PostgresClient
    let listenConfiguration: PostgresConnection.Configuration
    let sender: String
    let logger: Logger
    let factory: any MetricsFactory

    private struct Pending {
        var queued = false
        var cancels: [String] = []
        var progress: [String: JobSnapshot] = [:]
        var isEmpty: Bool { !queued && cancels.isEmpty && progress.isEmpty }
    }
    private let pending = Mutex(Pending())
    private let handler = Mutex<Callback<JobSignal>?>(nil)
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation
    /// 1 while the listening session is up.
    let connected = Atomic(false)

    public init(client: PostgresClient, settings: PostgresSettings, instance: String, logger: Logger, metrics: (any MetricsFactory)? = nil) throws {
        self.client = client
        self.listenConfiguration = try settings.connectionConfiguration(instance: instance)
        self.sender = instance
        self.logger = logger
        self.factory = metrics ?? MetricsSystem.factory
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        Counter(label: "abm_job_notify_reconnects_total", factory: factory).increment(by: 0)
        Counter(label: "abm_job_notify_errors_total", factory: factory).increment(by: 0)
    }

    public var isListening: Bool { connected.load(ordering: .relaxed) }

    public func post(_ signal: JobSignal) {
        pending.withLock { p in
            switch signal {
            case .queued: p.queued = true
            case .cancel(let id): p.cancels.append(id)
            case .progress(let s): p.progress[s.jobID] = s
            }
        }
        wake.yield()
    }

    public func setHandler(_ handler: @escaping @Sendable (JobSignal) -> Void) {
        self.handler.withLock { $0 = Callback(handler) }
    }

    /// Sends and listens until graceful shutdown; what was posted before it is sent before it returns.
    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.listenLoop() }
            group.addTask { await self.sendLoop() }
            try? await gracefulShutdown()
            wake.finish()
            group.cancelAll()
        }
        await flush()
    }

    // MARK: Sending

    func sendLoop() async {
        for await _ in wakeups {
            await flush()
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    func flush() async {
        let taken = pending.withLock { p -> Pending in
            defer { p = Pending() }
            return p
        }
        guard !taken.isEmpty else { return }
        var signals: [JobSignal] = taken.cancels.map { .cancel($0) } + taken.progress.values.map { .progress($0) }
        if taken.queued { signals.append(.queued) }
        for payload in JobSignal.payloads(signals, sender: sender) {
            do {
                try await Deadline.run(seconds: 5) { [client, logger] in
                    try await client.query("SELECT pg_notify('abm_jobs', \(payload))", logger: logger)
                }
            } catch {
                // Best effort: the polls find what this would have told.
                Counter(label: "abm_job_notify_errors_total", factory: factory).increment()
                logger.debug("job notification not sent", metadata: ["error": "\(error)"])
            }
        }
    }

    // MARK: Listening

    func listenLoop() async {
        var failures = 0
        var first = true
        while !Task.isCancelled {
            do {
                let connection = try await Deadline.run(seconds: 10) { [listenConfiguration, logger] in
                    try await PostgresConnection.connect(
                        on: MultiThreadedEventLoopGroup.singleton.any(), configuration: listenConfiguration, id: 1, logger: logger
                    ).get()
                }
                if !first {
                    Counter(label: "abm_job_notify_reconnects_total", factory: factory).increment()
                    logger.info("job notification session reconnected", metadata: ["failures": "\(failures)"])
                }
                first = false
                failures = 0
                await listen(on: connection)
                try? await connection.close()
            } catch {
                if Task.isCancelled { return }
                failures += 1
                if failures == 1 || failures % 60 == 0 {
                    logger.warning("job notification session unavailable; polling meanwhile", metadata: ["error": "\(error)"])
                }
            }
            connected.store(false, ordering: .relaxed)
            if Task.isCancelled { return }
            // Backoff: 0.2 s, doubling, at most 5 s.
            try? await Task.sleep(for: .milliseconds(min(5000, 200 << min(failures, 5))))
        }
    }

    /// Until the session fails its health check, breaks, or the task is cancelled.
    private func listen(on connection: PostgresConnection) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [logger] in
                do {
                    try await connection.listen(on: "abm_jobs") { notifications in
                        self.connected.store(true, ordering: .relaxed)
                        // Whatever was sent while nobody listened: look now.
                        self.deliver(.queued)
                        for try await n in notifications { self.receive(n.payload) }
                    }
                } catch {
                    logger.debug("job notification session ended", metadata: ["error": "\(error)"])
                }
            }
            group.addTask { [logger] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(5))
                    if Task.isCancelled { return }
                    do {
                        try await Deadline.run(seconds: 5) { try await connection.query("SELECT 1", logger: logger) }
                    } catch {
                        logger.debug("job notification session failed its check", metadata: ["error": "\(error)"])
                        return
                    }
                }
            }
            // Either ending ends both.
            await group.next()
            group.cancelAll()
            try? await connection.close()
        }
    }

    func receive(_ payload: String) {
        guard let (from, signals) = JobSignal.parse(payload: payload), from != Substring(sender) else { return }
        for s in signals { deliver(s) }
    }

    private func deliver(_ s: JobSignal) {
        handler.withLock { $0 }?.call(s)
    }
}
