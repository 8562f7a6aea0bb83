import Foundation
import GRDB
import Synchronization

/// Jobs in one SQLite file through GRDB: a WAL database pool (one writer, concurrent readers), full sync,
/// so a job is on disk before its submission is answered.
///
/// The store is the truth: job rows carry status, progress and lease; requests and results live in tables
/// of their own and are read only when needed (a request when its job is claimed, a result chunk by chunk
/// as a client reads it); per-status counts are kept by triggers at each transition. GRDB runs every
/// statement on its own dispatch queues, off the Swift concurrency pool. If the file cannot be opened (a
/// read-only directory, a lock held elsewhere), calls fail with `JobStoreError.unavailable` and the next
/// call tries again, so the store recovers when the fault clears.
public final class SQLiteJobStore: JobStore {
    public let path: String
    private let opened = Mutex<DatabasePool?>(nil)

    /// `directory/jobs.sqlite3`; the directory is created if missing.
    public init(directory: String) {
        self.path = directory.hasSuffix("/") ? directory + "jobs.sqlite3" : directory + "/jobs.sqlite3"
        self.directory = directory.isEmpty ? "." : directory
    }

    private let directory: String

    /// Held while the file is opened and migrated, so two first calls open it once; `opened` itself is only
    /// ever held for a moment, so a call on the fast path never waits behind an opening.
    private let opening = Mutex<Void>(())

    /// The pool, opened and migrated on first use. Opening blocks (file system calls, fsyncs of the
    /// migrations, up to the 2 s busy timeout when another process holds the lock): `access` calls it on a
    /// dispatch thread, never on the Swift concurrency pool that serves requests.
    func pool() throws -> DatabasePool {
        if let current = opened.withLock({ $0 }) { return current }
        return try opening.withLock { _ in
            if let current = opened.withLock({ $0 }) { return current }
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                var config = Configuration()
                config.label = "abm.jobstore"
                config.busyMode = .timeout(2)
                config.prepareDatabase { db in
                    try db.execute(sql: "PRAGMA synchronous = FULL")
                }
                let pool = try DatabasePool(path: path, configuration: config)
                try SQLiteSchema.migrator.migrate(pool)
                opened.withLock { $0 = pool }
                return pool
            } catch let e as DatabaseError {
                throw JobStoreError.unavailable(Self.describe(e))
            } catch {
                throw JobStoreError.unavailable("cannot open the job database: \(error.localizedDescription)")
            }
        }
    }

    /// The open pool, or the pool opened on a dispatch thread.
    private func openPool() async throws -> DatabasePool {
        if let current = opened.withLock({ $0 }) { return current }
        return try await withCheckedThrowingContinuation { k in
            DispatchQueue.global().async { k.resume(with: Result { try self.pool() }) }
        }
    }

    /// The SQLite message without paths or SQL: what a log line, a health check or a client may see.
    static func describe(_ e: DatabaseError) -> String {
        e.message ?? "SQLite error \(e.resultCode.rawValue)"
    }

    private func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await access { try await $0.write(body) }
    }

    private func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await access { try await $0.read(body) }
    }

    /// Runs `operation` on the pool, opening it if needed; SQLite errors become `JobStoreError.unavailable`.
    private func access<T: Sendable>(_ operation: (DatabasePool) async throws -> T) async throws -> T {
        let pool = try await openPool()
        do {
            return try await operation(pool)
        } catch let e as DatabaseError {
            throw failed(e, pool)
        }
    }

    /// A failure other than contention drops the pool, so the next call opens the file afresh: a connection
    /// opened while the file system was read-only stays read-only after it is writable again.
    private func failed(_ e: DatabaseError, _ pool: DatabasePool) -> JobStoreError {
        let transient: [ResultCode] = [.SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_CONSTRAINT, .SQLITE_INTERRUPT]
        if !transient.contains(e.resultCode) {
            opened.withLock { current in if current === pool { current = nil } }
        }
        return JobStoreError.unavailable(Self.describe(e))
    }

    public func migrate() async throws {
        _ = try await openPool()
    }

    /// Writes inside a transaction it rolls back: a read-only file or file system fails here ("attempt to
    /// write a readonly database"), where taking the lock alone would pass. The probe does not wait long
    /// for a lock another process holds: it fails within 250 ms saying "database is locked", well inside
    /// the health check's deadline.
    public func checkWritable() async throws {
        try await access { pool in
            try await pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA busy_timeout = 250")
                defer { try? db.execute(sql: "PRAGMA busy_timeout = 2000") }
                try db.execute(sql: "BEGIN IMMEDIATE")
                do {
                    try db.execute(sql: "INSERT INTO write_probe (at) VALUES (0)")
                    try db.execute(sql: "ROLLBACK")
                } catch {
                    try? db.execute(sql: "ROLLBACK")
                    throw error
                }
            }
        }
    }

    // MARK: Rows

    static let columns = """
        j.seq, j.id, j.kind, j.status, j.created_at, j.started_at, j.completed_at, j.current_month, j.total_months, \
        j.error, j.seed, j.cache_key, j.cached, j.attempts, j.rescues, j.client, r.size, j.traceparent
        """
    static let from = "jobs j LEFT JOIN results r ON r.id = j.result_id"

    static func record(_ row: Row) -> JobRecord {
        JobRecord(
            id: row[1], kind: JobKind(rawValue: row[2]) ?? .abm, status: JobStatus(rawValue: row[3]) ?? .failed,
            createdAt: Date(timeIntervalSince1970: row[4]),
            startedAt: (row[5] as Double?).map(Date.init(timeIntervalSince1970:)),
            completedAt: (row[6] as Double?).map(Date.init(timeIntervalSince1970:)), currentMonth: row[7],
            totalMonths: row[8], error: row[9], seed: UInt32(truncatingIfNeeded: row[10] as Int64), cacheKey: row[11],
            cached: row[12], attempts: row[13], rescues: row[14], client: row[15], sequence: row[0], resultBytes: row[16],
            traceparent: row[17])
    }

    static func fetchJob(_ db: Database, _ id: String) throws -> JobRecord? {
        try Row.fetchOne(db, sql: "SELECT \(columns) FROM \(from) WHERE j.id = ?", arguments: [id]).map(record)
    }

    static func count(_ db: Database, _ status: JobStatus) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT n FROM job_counts WHERE status = ?", arguments: [status.rawValue]) ?? 0
    }

    // MARK: Admission

    public func admit(_ submission: NewJob, limits: AdmissionLimits, now: Date) async throws -> Admission {
        try await write { db in
            let pending = try Self.count(db, .pending)
            if pending >= limits.maxQueued {
                return .queueFull(running: try Self.count(db, .running), queued: pending)
            }
            let job = submission.job
            if limits.maxQueuedPerClient > 0, let client = job.client {
                let mine =
                    try Int.fetchOne(
                        db, sql: "SELECT count(*) FROM jobs WHERE status = 'pending' AND client = ?", arguments: [client]) ?? 0
                if mine >= limits.maxQueuedPerClient { return .clientQuotaFull(queued: mine) }
            }
            let t = now.timeIntervalSince1970
            if let key = job.cacheKey,
                let hit = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT c.result_id, c.seed, c.total_months FROM cache_entries c JOIN results r ON r.id = c.result_id
                        WHERE c.key = ? AND c.stored_at >= ?
                        """, arguments: [key, t - limits.cacheMaxAge])
            {
                let resultID: Int64 = hit[0]
                try db.execute(sql: "UPDATE cache_entries SET last_used = ? WHERE key = ?", arguments: [t, key])
                try db.execute(
                    sql: """
                        INSERT INTO jobs (id, kind, status, created_at, started_at, completed_at, current_month, total_months,
                                          seed, cache_key, cached, client, result_id, traceparent)
                        VALUES (?, ?, 'completed', ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)
                        """,
                    arguments: [
                        submission.cachedID, job.kind.rawValue, t, t, t, hit[2] as Int, hit[2] as Int, hit[1] as Int64, key,
                        job.client, resultID, job.traceparent,
                    ])
                return .cached(try Self.fetchJob(db, submission.cachedID)!)
            }
            try db.execute(
                sql: """
                    INSERT INTO jobs (id, kind, status, created_at, total_months, seed, cache_key, cached, client, traceparent)
                    VALUES (?, ?, 'pending', ?, ?, ?, ?, 0, ?, ?)
                    """,
                arguments: [job.id, job.kind.rawValue, t, job.totalMonths, Int64(job.seed), job.cacheKey, job.client, job.traceparent])
            try db.execute(
                sql: "INSERT INTO job_requests (job_id, body) VALUES (?, ?)", arguments: [job.id, Data(submission.request)])
            return .queued(try Self.fetchJob(db, job.id)!)
        }
    }

    // MARK: Runs

    public func claim(owner: String, leaseSeconds: Double, now: Date) async throws -> ClaimedJob? {
        let token = UUID().uuidString
        return try await write { db in
            let t = now.timeIntervalSince1970
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        UPDATE jobs SET status = 'running', started_at = ?, attempts = attempts + 1, current_month = 0,
                            lease_token = ?, lease_owner = ?, lease_expires_at = ?, cancel_requested = 0
                        WHERE seq = (SELECT seq FROM jobs WHERE status = 'pending' ORDER BY seq LIMIT 1)
                        RETURNING id
                        """, arguments: [t, token, owner, t + leaseSeconds])
            else { return nil }
            let id: String = row[0]
            let request = try Data.fetchOne(db, sql: "SELECT body FROM job_requests WHERE job_id = ?", arguments: [id])
            return ClaimedJob(
                job: try Self.fetchJob(db, id)!, request: request.map { [UInt8]($0) } ?? [],
                lease: Lease(jobID: id, token: token, owner: owner))
        }
    }

    public func renew(_ lease: Lease, currentMonth: Int, leaseSeconds: Double, now: Date) async throws -> LeaseState? {
        try await write { db in
            let row = try Row.fetchOne(
                db,
                sql: """
                    UPDATE jobs SET lease_expires_at = ?, current_month = ?
                    WHERE id = ? AND lease_token = ? AND status = 'running' RETURNING cancel_requested
                    """, arguments: [now.timeIntervalSince1970 + leaseSeconds, currentMonth, lease.jobID, lease.token])
            return row.map { LeaseState(cancelRequested: $0[0]) }
        }
    }

    /// Ends a run in one transaction, only while the lease still holds.
    private func finish(_ lease: Lease, _ body: @escaping @Sendable (Database) throws -> Void) async throws -> Bool {
        try await write { db in
            let holds =
                try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM jobs WHERE id = ? AND lease_token = ? AND status = 'running'",
                    arguments: [lease.jobID, lease.token]) ?? false
            guard holds else { return false }
            try body(db)
            return true
        }
    }

    public func beginResult(_ lease: Lease, now: Date) async throws -> ResultUpload? {
        let id = Box<Int64>()
        let held = try await finish(lease) { db in
            // Staged: `staged_lease` names the run writing it; `sweep` deletes it once that run is gone.
            try db.execute(
                sql: "INSERT INTO results (size, chunks, created_at, staged_lease) VALUES (0, 0, ?, ?)",
                arguments: [now.timeIntervalSince1970, lease.token])
            id.value = db.lastInsertedRowID
        }
        guard held, let resultID = id.value else { return nil }
        return ResultUpload(lease: lease, id: resultID)
    }

    public func appendResult(_ upload: ResultUpload, chunks: [[UInt8]]) async throws -> ResultUpload? {
        let held = try await finish(upload.lease) { db in
            for (i, chunk) in chunks.enumerated() {
                try db.execute(
                    sql: "INSERT INTO result_chunks (result_id, idx, data) VALUES (?, ?, ?)",
                    arguments: [upload.id, upload.chunks + i, Data(chunk)])
            }
        }
        return held ? upload.appending(chunks) : nil
    }

    public func complete(_ lease: Lease, upload: ResultUpload, cacheKey: String?, cacheMaxEntries: Int, now: Date) async throws -> Bool {
        try await finish(lease) { db in
            let t = now.timeIntervalSince1970
            let resultID = upload.id
            try db.execute(
                sql: "UPDATE results SET size = ?, chunks = ?, staged_lease = NULL WHERE id = ? AND staged_lease = ?",
                arguments: [upload.bytes, upload.chunks, resultID, lease.token])
            guard db.changesCount == 1 else { throw JobStoreError.unavailable("the staged result is gone") }
            try db.execute(
                sql: """
                    UPDATE jobs SET status = 'completed', completed_at = ?, current_month = total_months, error = NULL,
                        result_id = ?, lease_token = NULL, lease_expires_at = NULL WHERE id = ?
                    """, arguments: [t, resultID, lease.jobID])
            if let cacheKey, cacheMaxEntries > 0 {
                try db.execute(
                    sql: """
                        INSERT INTO cache_entries (key, result_id, seed, total_months, stored_at, last_used)
                        SELECT ?, ?, seed, total_months, ?, ? FROM jobs WHERE id = ?
                        ON CONFLICT (key) DO UPDATE SET result_id = excluded.result_id, stored_at = excluded.stored_at,
                            last_used = excluded.last_used
                        """, arguments: [cacheKey, resultID, t, t, lease.jobID])
                try db.execute(
                    sql: """
                        DELETE FROM cache_entries WHERE key IN (
                            SELECT key FROM cache_entries ORDER BY last_used DESC LIMIT -1 OFFSET ?)
                        """, arguments: [cacheMaxEntries])
            }
        }
    }

    public func fail(_ lease: Lease, error: String, currentMonth: Int, now: Date) async throws -> Bool {
        try await finish(lease) { db in
            try db.execute(
                sql: """
                    UPDATE jobs SET status = 'failed', completed_at = ?, error = ?, current_month = ?, lease_token = NULL,
                        lease_expires_at = NULL WHERE id = ?
                    """, arguments: [now.timeIntervalSince1970, error, currentMonth, lease.jobID])
        }
    }

    public func cancelled(_ lease: Lease, currentMonth: Int, now: Date) async throws -> Bool {
        try await finish(lease) { db in
            try db.execute(
                sql: """
                    UPDATE jobs SET status = 'cancelled', completed_at = ?, current_month = ?, lease_token = NULL,
                        lease_expires_at = NULL WHERE id = ?
                    """, arguments: [now.timeIntervalSince1970, currentMonth, lease.jobID])
        }
    }

    public func release(_ lease: Lease) async throws -> Bool {
        try await finish(lease) { db in
            try db.execute(
                sql: """
                    UPDATE jobs SET status = 'pending', current_month = 0, lease_token = NULL, lease_owner = NULL,
                        lease_expires_at = NULL WHERE id = ?
                    """, arguments: [lease.jobID])
        }
    }

    public func cancel(_ id: String, now: Date) async throws -> CancelOutcome {
        try await write { db in
            guard let status = try String.fetchOne(db, sql: "SELECT status FROM jobs WHERE id = ?", arguments: [id]) else {
                return .notFound
            }
            switch JobStatus(rawValue: status) {
            case .pending:
                try db.execute(
                    sql: "UPDATE jobs SET status = 'cancelled', completed_at = ? WHERE id = ?",
                    arguments: [now.timeIntervalSince1970, id])
                return .cancelled(try Self.fetchJob(db, id)!)
            case .running:
                try db.execute(sql: "UPDATE jobs SET cancel_requested = 1 WHERE id = ?", arguments: [id])
                return .requested
            default:
                return .notCancellable
            }
        }
    }

    public func requeueAbandoned(leaseExpiredBefore: Date?, maxRescues: Int, now: Date) async throws -> Rescue {
        try await write { db in
            let cutoff = leaseExpiredBefore?.timeIntervalSince1970
            // A cancel that reached the store but whose run never recorded it ends cancelled, not rerun.
            try db.execute(
                sql: """
                    UPDATE jobs SET status = 'cancelled', completed_at = ?, lease_token = NULL, lease_expires_at = NULL
                    WHERE status = 'running' AND cancel_requested = 1 AND (? IS NULL OR lease_expires_at < ?)
                    """, arguments: [now.timeIntervalSince1970, cutoff, cutoff])
            try db.execute(
                sql: """
                    UPDATE jobs SET status = 'failed', completed_at = ?, lease_token = NULL, lease_expires_at = NULL,
                        error = 'abandoned: its run was interrupted ' || (rescues + 1) || ' times (process crash or lost lease); not retried again'
                    WHERE status = 'running' AND rescues + 1 >= ? AND (? IS NULL OR lease_expires_at < ?)
                    """, arguments: [now.timeIntervalSince1970, maxRescues, cutoff, cutoff])
            let failed = db.changesCount
            try db.execute(
                sql: """
                    UPDATE jobs SET status = 'pending', current_month = 0, rescues = rescues + 1, lease_token = NULL,
                        lease_owner = NULL, lease_expires_at = NULL
                    WHERE status = 'running' AND (? IS NULL OR lease_expires_at < ?)
                    """, arguments: [cutoff, cutoff])
            return Rescue(requeued: db.changesCount, failed: failed)
        }
    }

    // MARK: Queries

    public func job(_ id: String) async throws -> JobRecord? {
        try await read { db in try Self.fetchJob(db, id) }
    }

    public func list(after cursor: Int64?, limit: Int) async throws -> JobPage {
        try await read { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT \(Self.columns) FROM \(Self.from) WHERE j.seq > ? ORDER BY j.seq LIMIT ?",
                arguments: [cursor ?? 0, limit + 1])
            let jobs = rows.map(Self.record)
            return JobPage(fetched: jobs, limit: limit)
        }
    }

    public func counts() async throws -> StoreCounts {
        try await read { db in
            var counts = JobCounts()
            var cache = 0
            for row in try Row.fetchAll(db, sql: "SELECT status, n FROM job_counts") {
                let name: String = row[0]
                if let s = JobStatus(rawValue: name) { counts.byStatus[s] = row[1] } else if name == "cache_entries" { cache = row[1] }
            }
            let oldest = try Double.fetchOne(db, sql: "SELECT created_at FROM jobs WHERE status = 'pending' ORDER BY seq LIMIT 1")
            return StoreCounts(jobs: counts, cacheEntries: cache, oldestPending: oldest.map(Date.init(timeIntervalSince1970:)))
        }
    }

    public func resultInfo(_ jobID: String) async throws -> ResultInfo? {
        try await read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT r.id, r.size, r.chunks FROM jobs j JOIN results r ON r.id = j.result_id WHERE j.id = ?",
                arguments: [jobID]
            ).map { ResultInfo(resultID: $0[0], bytes: $0[1], chunks: $0[2]) }
        }
    }

    public func resultChunk(_ resultID: Int64, index: Int) async throws -> [UInt8]? {
        try await read { db in
            try Data.fetchOne(
                db, sql: "SELECT data FROM result_chunks WHERE result_id = ? AND idx = ?", arguments: [resultID, index]
            ).map { [UInt8]($0) }
        }
    }

    /// One batch per transaction, so the writer is never held for long.
    public func sweep(completedBefore cutoff: Date, cacheExpiredBefore: Date) async throws -> Int {
        var total = 0
        while true {
            let deleted = try await write { db in
                try db.execute(
                    sql: """
                        DELETE FROM jobs WHERE seq IN (
                            SELECT seq FROM jobs WHERE status IN ('completed', 'failed', 'cancelled') AND completed_at < ?
                            LIMIT 500)
                        """, arguments: [cutoff.timeIntervalSince1970])
                return db.changesCount
            }
            total += deleted
            if deleted < 500 { break }
        }
        try await write { db in
            try db.execute(sql: "DELETE FROM cache_entries WHERE stored_at < ?", arguments: [cacheExpiredBefore.timeIntervalSince1970])
        }
        while true {
            let deleted = try await write { db in
                try db.execute(
                    sql: """
                        DELETE FROM results WHERE id IN (
                            SELECT r.id FROM results r
                            WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.result_id = r.id)
                              AND NOT EXISTS (SELECT 1 FROM cache_entries c WHERE c.result_id = r.id)
                              AND (r.staged_lease IS NULL
                                   OR NOT EXISTS (SELECT 1 FROM jobs j WHERE j.lease_token = r.staged_lease AND j.status = 'running'))
                            LIMIT 50)
                        """)
                return db.changesCount
            }
            if deleted < 50 { break }
        }
        return total
    }
}
