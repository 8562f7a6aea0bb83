import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// Jobs in PostgreSQL, shared by any number of instances (`ABM_JOB_STORE=postgres`).
///
/// The same contract as the SQLite store, for many processes at once: admission is serialized by a
/// transaction-scoped advisory lock (so the queue bound and the per-client quota hold across instances), a
/// claim takes the oldest pending job with `FOR UPDATE SKIP LOCKED` (instances never wait on each other's
/// claims), every write about a run is fenced by its lease token, and per-status counts are kept by triggers.
/// Schema migrations run under an advisory lock, so two instances starting at once migrate once.
public final class PostgresJobStore: JobStore {
    let client: PostgresClient
    let logger: Logger
    /// Set once the schema is current: until then every call migrates first (as the SQLite store opens and
    /// migrates on first use), so a health check or a scrape that comes before startup recovery finds the
    /// tables. Two first calls at once both migrate; the advisory lock makes the second a no-op.
    private let migrated = Atomic<Bool>(false)

    /// `client` must be running (`client.run()` in a task of its own; `PostgresJobStore.run` does it).
    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    // MARK: Errors

    /// Runs `body` within `seconds` (the pool waits for a connection without a deadline of its own, and a
    /// server that stopped answering would hold the caller for ever); a database or connection error becomes
    /// `JobStoreError.unavailable` with the server's message (no SQL, no connection string).
    func access<T: Sendable>(
        seconds: Double = 20, migrating: Bool = false, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        do {
            if !migrating, !migrated.load(ordering: .acquiring) { try await migrate() }
            return try await Deadline.run(seconds: seconds, body)
        } catch let e as Deadline.Exceeded {
            throw JobStoreError.unavailable("job database: \(e)")
        } catch let e as JobStoreError {
            throw e
        } catch let e as PSQLError {
            throw JobStoreError.unavailable(Self.describe(e))
        } catch {
            throw JobStoreError.unavailable("job database: \(type(of: error))")
        }
    }

    static func describe(_ e: PSQLError) -> String {
        if let message = e.serverInfo?[.message] { return "job database: \(message)" }
        return "job database unreachable (\(e.code.description))"
    }

    func transaction<T: Sendable>(
        migrating: Bool = false, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await access(migrating: migrating) { [client, logger] in try await client.withTransaction(logger: logger) { try await body($0) } }
    }

    // MARK: Schema

    public func migrate() async throws {
        try await transaction(migrating: true) { [self] c in
            // One instance migrates; another starting at the same time waits here, then finds nothing to do.
            try await c.query("SELECT pg_advisory_xact_lock(7271001)", logger: logger)
            try await c.query("CREATE TABLE IF NOT EXISTS abm_migrations (version TEXT PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)", logger: logger)
            var applied = Set<String>()
            for try await version in try await c.query("SELECT version FROM abm_migrations", logger: logger).decode(String.self) {
                applied.insert(version)
            }
            for (version, statements) in PostgresSchema.migrations where !applied.contains(version) {
                for sql in statements { try await c.query(PostgresQuery(unsafeSQL: sql), logger: logger) }
                try await c.query("INSERT INTO abm_migrations (version, applied_at) VALUES (\(version), \(Date().timeIntervalSince1970))", logger: logger)
            }
        }
        migrated.store(true, ordering: .releasing)
    }
}

// MARK: Rows

extension PostgresJobStore {
    static let columns = """
        j.seq, j.id, j.kind, j.status, j.created_at, j.started_at, j.completed_at, j.current_month, j.total_months, \
        j.error, j.seed, j.cache_key, j.cached, j.attempts, j.rescues, j.client, r.size, j.traceparent
        """
    static let from = "jobs j LEFT JOIN results r ON r.id = j.result_id"

    static func record(_ row: PostgresRow) throws -> JobRecord {
        let (seq, id, kind, status, created, started, completed, month, total, error, seed, key, cached, attempts, rescues, client, size,
            traceparent) =
            try row.decode(
                (Int64, String, String, String, Double, Double?, Double?, Int, Int, String?, Int64, String?, Bool, Int, Int, String?, Int64?,
                    String?).self)
        return JobRecord(
            id: id, kind: JobKind(rawValue: kind) ?? .abm, status: JobStatus(rawValue: status) ?? .failed,
            createdAt: Date(timeIntervalSince1970: created), startedAt: started.map(Date.init(timeIntervalSince1970:)),
            completedAt: completed.map(Date.init(timeIntervalSince1970:)), currentMonth: month, totalMonths: total, error: error,
            seed: UInt32(truncatingIfNeeded: seed), cacheKey: key, cached: cached, attempts: attempts, rescues: rescues, client: client,
            sequence: seq, resultBytes: size.map(Int.init), traceparent: traceparent)
    }

    func fetchJob(_ c: PostgresConnection, _ id: String) async throws -> JobRecord? {
        let rows = try await c.query("SELECT \(unescaped: Self.columns) FROM \(unescaped: Self.from) WHERE j.id = \(id)", logger: logger)
        for try await row in rows { return try Self.record(row) }
        return nil
    }

    func count(_ c: PostgresConnection, _ status: String) async throws -> Int {
        let rows = try await c.query("SELECT n FROM job_counts WHERE status = \(status)", logger: logger)
        for try await n in rows.decode(Int64.self) { return Int(n) }
        return 0
    }
}

// MARK: Admission and runs

extension PostgresJobStore {
    public func admit(_ submission: NewJob, limits: AdmissionLimits, now: Date) async throws -> Admission {
        try await transaction { [self] c in
            // Every instance's admissions take turns here: the bound and the quota hold across instances.
            try await c.query("SELECT pg_advisory_xact_lock(7271002)", logger: logger)
            let pending = try await count(c, "pending")
            if pending >= limits.maxQueued { return .queueFull(running: try await count(c, "running"), queued: pending) }
            let job = submission.job
            if limits.maxQueuedPerClient > 0, let client = job.client {
                var mine = 0
                for try await n in try await c.query(
                    "SELECT count(*) FROM jobs WHERE status = 'pending' AND client = \(client)", logger: logger
                ).decode(Int64.self) { mine = Int(n) }
                if mine >= limits.maxQueuedPerClient { return .clientQuotaFull(queued: mine) }
            }
            let t = now.timeIntervalSince1970
            if let key = job.cacheKey {
                let oldest = t - limits.cacheMaxAge
                var hit: (Int64, Int64, Int)?
                for try await row in try await c.query(
                    """
                    SELECT c.result_id, c.seed, c.total_months FROM cache_entries c JOIN results r ON r.id = c.result_id
                    WHERE c.key = \(key) AND c.stored_at >= \(oldest) FOR UPDATE OF c
                    """, logger: logger
                ).decode((Int64, Int64, Int).self) { hit = row }
                if let (resultID, seed, months) = hit {
                    try await c.query("UPDATE cache_entries SET last_used = \(t) WHERE key = \(key)", logger: logger)
                    try await c.query(
                        """
                        INSERT INTO jobs (id, kind, status, created_at, started_at, completed_at, current_month, total_months,
                                          seed, cache_key, cached, client, result_id, traceparent)
                        VALUES (\(submission.cachedID), \(job.kind.rawValue), 'completed', \(t), \(t), \(t), \(months), \(months),
                                \(seed), \(key), true, \(job.client), \(resultID), \(job.traceparent))
                        """, logger: logger)
                    return .cached(try await fetchJob(c, submission.cachedID)!)
                }
            }
            try await c.query(
                """
                INSERT INTO jobs (id, kind, status, created_at, total_months, seed, cache_key, cached, client, traceparent)
                VALUES (\(job.id), \(job.kind.rawValue), 'pending', \(t), \(job.totalMonths), \(Int64(job.seed)), \(job.cacheKey), false, \(job.client),
                        \(job.traceparent))
                """, logger: logger)
            try await c.query("INSERT INTO job_requests (job_id, body) VALUES (\(job.id), \(ByteBuffer(bytes: submission.request)))", logger: logger)
            return .queued(try await fetchJob(c, job.id)!)
        }
    }

    /// The oldest pending job, taken without waiting on the rows other instances are claiming: one
    /// statement (it is its own transaction) that claims the row and returns it with its request.
    public func claim(owner: String, leaseSeconds: Double, now: Date) async throws -> ClaimedJob? {
        let token = UUID().uuidString
        var binds = PostgresBindings()
        let t = now.timeIntervalSince1970
        binds.append(t)
        binds.append(token)
        binds.append(owner)
        binds.append(t + leaseSeconds)
        let statement = PostgresStatement<ClaimSQL>(binds)
        return try await access { [self] in
            for try await row in try await client.execute(statement, logger: logger) {
                let job = try Self.record(row)
                let body = try row.makeRandomAccess()[18].decode(ByteBuffer.self)
                return ClaimedJob(job: job, request: Array(buffer: body), lease: Lease(jobID: job.id, token: token, owner: owner))
            }
            return nil
        }
    }

    /// $1 the time, $2 the new lease token, $3 the owner, $4 the lease's expiry.
    enum ClaimSQL: PostgresStatementText {
        static let name = "abm_claim"
        static let sql = """
            WITH c AS (
                UPDATE jobs SET status = 'running', started_at = $1, attempts = attempts + 1, current_month = 0,
                    lease_token = $2, lease_owner = $3, lease_expires_at = $4, cancel_requested = false
                WHERE seq = (SELECT seq FROM jobs WHERE status = 'pending' ORDER BY seq FOR UPDATE SKIP LOCKED LIMIT 1)
                RETURNING *)
            SELECT \(columns), q.body FROM c j LEFT JOIN results r ON r.id = j.result_id JOIN job_requests q ON q.job_id = j.id
            """
    }

    public func renew(_ lease: Lease, currentMonth: Int, leaseSeconds: Double, now: Date) async throws -> LeaseState? {
        var binds = PostgresBindings()
        binds.append(now.timeIntervalSince1970 + leaseSeconds)
        binds.append(currentMonth)
        binds.append(lease.jobID)
        binds.append(lease.token)
        let statement = PostgresStatement<RenewSQL>(binds)
        return try await access { [self] in
            for try await row in try await client.execute(statement, logger: logger) {
                return LeaseState(cancelRequested: try row.decode(Bool.self))
            }
            return nil
        }
    }

    /// $1 the new expiry, $2 the month reached, $3 the job, $4 the lease token.
    enum RenewSQL: PostgresStatementText {
        static let name = "abm_renew"
        static let sql = """
            UPDATE jobs SET lease_expires_at = $1, current_month = $2
            WHERE id = $3 AND lease_token = $4 AND status = 'running' RETURNING cancel_requested
            """
    }

    // The fence of every write about a run is a condition inside the write's own statement
    // (`... WHERE id = job AND lease_token = token AND status = 'running'`): an `UPDATE` of the job's row
    // re-checks it on the newest row version (`READ COMMITTED`), so a write whose lease was taken over
    // changes nothing, without a transaction of its own or a second round trip.

    /// Runs one statement; true when it returned a row (for a fenced write: the lease held and it wrote).
    func fencedWrite(_ query: PostgresQuery) async throws -> Bool {
        try await access { [self] in
            for try await _ in try await client.query(query, logger: logger) { return true }
            return false
        }
    }

    /// Nothing is written yet: the result's row is created with its first chunks (`appendResult`), or, for
    /// a result that fits in the last batch, with the completion itself. Id 0 marks an upload not staged yet.
    public func beginResult(_ lease: Lease, now: Date) async throws -> ResultUpload? {
        ResultUpload(lease: lease, id: 0)
    }

    public var completesWithLastChunks: Bool { true }

    /// A staged result's chunks, each one statement fenced in itself; the first call also creates the staged
    /// result. A chunk written after the lease moved on is refused, and one that slips in just before lands
    /// in this run's staged result, which nothing will link (the sweep deletes it).
    public func appendResult(_ upload: ResultUpload, chunks: [[UInt8]]) async throws -> ResultUpload? {
        var upload = upload
        var rest = chunks[...]
        if upload.id == 0, let first = rest.popFirst() {
            let lease = upload.lease
            let id = try await access { [self] () -> Int64? in
                for try await new in try await client.query(
                    """
                    WITH r AS (
                        INSERT INTO results (size, chunks, created_at, staged_lease)
                        SELECT 0, 0, \(Date().timeIntervalSince1970), \(lease.token)
                        WHERE EXISTS (SELECT 1 FROM jobs WHERE id = \(lease.jobID) AND lease_token = \(lease.token) AND status = 'running')
                        RETURNING id)
                    INSERT INTO result_chunks (result_id, idx, data) SELECT id, 0, \(ByteBuffer(bytes: first)) FROM r RETURNING result_id
                    """, logger: logger
                ).decode(Int64.self) { return new }
                return nil
            }
            guard let id else { return nil }
            upload = ResultUpload(lease: lease, id: id, chunks: 1, bytes: first.count)
        }
        for chunk in rest {
            let lease = upload.lease
            guard try await fencedWrite(
                """
                INSERT INTO result_chunks (result_id, idx, data)
                SELECT \(upload.id), \(upload.chunks), \(ByteBuffer(bytes: chunk))
                WHERE EXISTS (SELECT 1 FROM jobs WHERE id = \(lease.jobID) AND lease_token = \(lease.token) AND status = 'running')
                ON CONFLICT (result_id, idx) DO NOTHING
                RETURNING idx
                """)
            else { return nil }
            upload = upload.appending([chunk])
        }
        return upload
    }

    /// With nothing staged yet, one statement writes the result, its chunks, the job's completion and the
    /// cache entry, all only while the lease holds; otherwise the last chunks are appended, then completed.
    public func complete(
        _ lease: Lease, upload: ResultUpload, lastChunks: [[UInt8]], cacheKey: String?, cacheMaxEntries: Int, now: Date
    ) async throws -> Bool {
        guard upload.id == 0, !lastChunks.isEmpty else {
            guard let full = try await appendResult(upload, chunks: lastChunks) else { return false }
            return try await complete(lease, upload: full, cacheKey: cacheKey, cacheMaxEntries: cacheMaxEntries, now: now)
        }
        let cache = cacheKey != nil && cacheMaxEntries > 0
        let statement = PostgresStatement<CompleteSQL>(
            Self.completionBindings(lease, lastChunks: lastChunks, cacheKey: cacheKey, cache: cache, now: now))
        let done = try await access { [self] in
            for try await row in try await client.execute(statement, logger: logger) { return try row.decode((Int64, Int64, Int64).self).0 == 1 }
            return false
        }
        if done && cache { try await evictCache(beyond: cacheMaxEntries) }
        return done
    }

    /// $1 the job, $2 the lease token, $3 the time, $4 the result's size, $5 its chunk count, $6 the cache key,
    /// $7 whether to cache it, $8 the chunks' indexes, $9 the chunks.
    static func completionBindings(_ lease: Lease, lastChunks: [[UInt8]], cacheKey: String?, cache: Bool, now: Date) -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(lease.jobID)
        binds.append(lease.token)
        binds.append(now.timeIntervalSince1970)
        binds.append(Int64(lastChunks.reduce(0) { $0 + $1.count }))
        binds.append(Int64(lastChunks.count))
        binds.append(cacheKey ?? "")
        binds.append(cache)
        binds.append(lastChunks.indices.map { Int64($0) })
        binds.append(lastChunks.map { ByteBuffer(bytes: $0) })
        return binds
    }

    /// The completion with the parameters of `completionBindings`: the result row and its chunks, the job
    /// completed (`done`), the cache entry; all only while the lease holds.
    static let completionCTEs = """
        WITH r AS (
            INSERT INTO results (size, chunks, created_at, staged_lease)
            SELECT $4, $5, $3, NULL
            WHERE EXISTS (SELECT 1 FROM jobs WHERE id = $1 AND lease_token = $2 AND status = 'running')
            RETURNING id),
        c AS (
            INSERT INTO result_chunks (result_id, idx, data)
            SELECT r.id, v.idx, v.data FROM r, unnest($8::bigint[], $9::bytea[]) AS v (idx, data)
            RETURNING idx),
        done AS (
            UPDATE jobs SET status = 'completed', completed_at = $3, current_month = total_months, error = NULL,
                result_id = r.id, lease_token = NULL, lease_expires_at = NULL
            FROM r WHERE jobs.id = $1 AND jobs.lease_token = $2 AND jobs.status = 'running'
            RETURNING jobs.seed, jobs.total_months, r.id AS result_id),
        cached AS (
            INSERT INTO cache_entries (key, result_id, seed, total_months, stored_at, last_used)
            SELECT $6, result_id, seed, total_months, $3, $3 FROM done WHERE $7
            ON CONFLICT (key) DO UPDATE SET result_id = excluded.result_id, stored_at = excluded.stored_at,
                last_used = excluded.last_used
            RETURNING key)
        """

    enum CompleteSQL: PostgresStatementText {
        static let name = "abm_complete"
        static let sql = completionCTEs + """

            SELECT (SELECT count(*) FROM done), (SELECT count(*) FROM c), (SELECT count(*) FROM cached)
            """
    }

    /// The completion of `CompleteSQL` and the claim of `ClaimSQL` in one statement (one round trip and one
    /// commit per job while work is queued): the claim happens only if the completion was written.
    public func complete(
        _ lease: Lease, upload: ResultUpload, lastChunks: [[UInt8]], cacheKey: String?, cacheMaxEntries: Int, now: Date,
        thenClaimFor owner: String?, leaseSeconds: Double
    ) async throws -> (completed: Bool, next: ClaimedJob?) {
        guard let owner, upload.id == 0, !lastChunks.isEmpty else {
            let done = try await complete(lease, upload: upload, lastChunks: lastChunks, cacheKey: cacheKey, cacheMaxEntries: cacheMaxEntries, now: now)
            return (done, nil)
        }
        let cache = cacheKey != nil && cacheMaxEntries > 0
        let token = UUID().uuidString
        var binds = Self.completionBindings(lease, lastChunks: lastChunks, cacheKey: cacheKey, cache: cache, now: now)
        binds.append(token)
        binds.append(owner)
        binds.append(now.timeIntervalSince1970 + leaseSeconds)
        let statement = PostgresStatement<CompleteAndClaimSQL>(binds)
        let (done, next) = try await access { [self] () async throws -> (Bool, ClaimedJob?) in
            for try await row in try await client.execute(statement, logger: logger) {
                let columns = row.makeRandomAccess()
                let done = try columns[19].decode(Int64.self) == 1
                guard done, try columns[1].decode(String?.self) != nil else { return (done, nil) }
                let job = try Self.record(row)
                let body = try columns[18].decode(ByteBuffer.self)
                return (done, ClaimedJob(job: job, request: Array(buffer: body), lease: Lease(jobID: job.id, token: token, owner: owner)))
            }
            return (false, nil)
        }
        if done && cache { try await evictCache(beyond: cacheMaxEntries) }
        return (done, next)
    }

    /// $1..$9 as in `CompleteSQL`; $10 the next job's lease token, $11 the owner, $12 the lease's expiry.
    /// Always one row: the completion count last, the claimed job's columns (NULL when none) first.
    enum CompleteAndClaimSQL: PostgresStatementText {
        static let name = "abm_complete_and_claim"
        static let sql = completionCTEs + """
            ,
            nxt AS (
                UPDATE jobs SET status = 'running', started_at = $3, attempts = attempts + 1, current_month = 0,
                    lease_token = $10, lease_owner = $11, lease_expires_at = $12, cancel_requested = false
                WHERE EXISTS (SELECT 1 FROM done)
                  AND seq = (SELECT seq FROM jobs WHERE status = 'pending' ORDER BY seq FOR UPDATE SKIP LOCKED LIMIT 1)
                RETURNING *)
            SELECT \(columns), q.body, d.n + 0 * (SELECT count(*) FROM c) + 0 * (SELECT count(*) FROM cached)
            FROM (SELECT count(*) AS n FROM done) d
            LEFT JOIN (nxt j LEFT JOIN results r ON r.id = j.result_id JOIN job_requests q ON q.job_id = j.id) ON true
            """
    }

    func evictCache(beyond max: Int) async throws {
        _ = try await access { [self] in
            try await client.query(
                "DELETE FROM cache_entries WHERE key IN (SELECT key FROM cache_entries ORDER BY last_used DESC OFFSET \(max))",
                logger: logger)
        }
    }

    /// One statement: the job completes, its staged result becomes its result, and the cache entry is
    /// written, all only while the lease holds and the staged result is this run's.
    public func complete(_ lease: Lease, upload: ResultUpload, cacheKey: String?, cacheMaxEntries: Int, now: Date) async throws -> Bool {
        let t = now.timeIntervalSince1970
        let cache = cacheKey != nil && cacheMaxEntries > 0
        let done = try await access { [self] in
            for try await n in try await client.query(
                """
                WITH done AS (
                    UPDATE jobs SET status = 'completed', completed_at = \(t), current_month = total_months, error = NULL,
                        result_id = \(upload.id), lease_token = NULL, lease_expires_at = NULL
                    WHERE id = \(lease.jobID) AND lease_token = \(lease.token) AND status = 'running'
                      AND EXISTS (SELECT 1 FROM results WHERE id = \(upload.id) AND staged_lease = \(lease.token))
                    RETURNING seed, total_months),
                linked AS (
                    UPDATE results SET size = \(Int64(upload.bytes)), chunks = \(upload.chunks), staged_lease = NULL
                    WHERE id = \(upload.id) AND EXISTS (SELECT 1 FROM done) RETURNING id),
                cached AS (
                    INSERT INTO cache_entries (key, result_id, seed, total_months, stored_at, last_used)
                    SELECT \(cacheKey ?? ""), \(upload.id), seed, total_months, \(t), \(t) FROM done WHERE \(cache)
                    ON CONFLICT (key) DO UPDATE SET result_id = excluded.result_id, stored_at = excluded.stored_at,
                        last_used = excluded.last_used
                    RETURNING key)
                SELECT (SELECT count(*) FROM done) + (SELECT count(*) FROM linked) + (SELECT count(*) FROM cached) * 0
                """, logger: logger
            ).decode(Int64.self) { return n == 2 }
            return false
        }
        if !done {
            // Fenced out, or the lease holds but the staged result is gone (swept): the latter is an error.
            if try await fencedWrite(
                "SELECT 1 FROM jobs WHERE id = \(lease.jobID) AND lease_token = \(lease.token) AND status = 'running'")
            {
                throw JobStoreError.unavailable("the staged result is gone")
            }
            return false
        }
        if cache { try await evictCache(beyond: cacheMaxEntries) }
        return true
    }

    public func fail(_ lease: Lease, error: String, currentMonth: Int, now: Date) async throws -> Bool {
        try await fencedWrite(
            """
            UPDATE jobs SET status = 'failed', completed_at = \(now.timeIntervalSince1970), error = \(error),
                current_month = \(currentMonth), lease_token = NULL, lease_expires_at = NULL
            WHERE id = \(lease.jobID) AND lease_token = \(lease.token) AND status = 'running' RETURNING seq
            """)
    }

    public func cancelled(_ lease: Lease, currentMonth: Int, now: Date) async throws -> Bool {
        try await fencedWrite(
            """
            UPDATE jobs SET status = 'cancelled', completed_at = \(now.timeIntervalSince1970), current_month = \(currentMonth),
                lease_token = NULL, lease_expires_at = NULL
            WHERE id = \(lease.jobID) AND lease_token = \(lease.token) AND status = 'running' RETURNING seq
            """)
    }

    public func release(_ lease: Lease) async throws -> Bool {
        try await fencedWrite(
            """
            UPDATE jobs SET status = 'pending', current_month = 0, lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL
            WHERE id = \(lease.jobID) AND lease_token = \(lease.token) AND status = 'running' RETURNING seq
            """)
    }

    public func cancel(_ id: String, now: Date) async throws -> CancelOutcome {
        try await transaction { [self] c in
            var status: String?
            for try await s in try await c.query("SELECT status FROM jobs WHERE id = \(id) FOR UPDATE", logger: logger).decode(String.self) {
                status = s
            }
            guard let status else { return .notFound }
            switch JobStatus(rawValue: status) {
            case .pending:
                try await c.query(
                    "UPDATE jobs SET status = 'cancelled', completed_at = \(now.timeIntervalSince1970) WHERE id = \(id)", logger: logger)
                return .cancelled(try await fetchJob(c, id)!)
            case .running:
                try await c.query("UPDATE jobs SET cancel_requested = true WHERE id = \(id)", logger: logger)
                return .requested
            default:
                return .notCancellable
            }
        }
    }

    public var isShared: Bool { true }

    /// Expired leases (a date given), under a transaction-scoped try-lock: one instance at a time rescues,
    /// the others skip the round instead of queueing behind it. With no date, every running job (tests
    /// and a store used by one process only).
    public func requeueAbandoned(leaseExpiredBefore: Date?, maxRescues: Int, now: Date) async throws -> Rescue {
        let cutoff = leaseExpiredBefore?.timeIntervalSince1970 ?? Double.greatestFiniteMagnitude
        return try await requeue(where: "status = 'running' AND lease_expires_at < \(cutoff)", elected: leaseExpiredBefore != nil, maxRescues: maxRescues, now: now)
    }

    public func requeueOwned(by owner: String, maxRescues: Int, now: Date) async throws -> Rescue {
        try await requeue(owner: owner, maxRescues: maxRescues, now: now)
    }

    private func requeue(where condition: String? = nil, owner: String? = nil, elected: Bool = false, maxRescues: Int, now: Date) async throws -> Rescue {
        try await transaction { [self] c in
            if elected {
                var won = false
                for try await got in try await c.query("SELECT pg_try_advisory_xact_lock(7271003)", logger: logger).decode(Bool.self) {
                    won = got
                }
                guard won else { return Rescue() }
            }
            let t = now.timeIntervalSince1970
            // Only numbers are interpolated into `condition`; the owner goes as a bound parameter.
            func which(_ head: String, _ tail: String) -> PostgresQuery {
                if let owner { return "\(unescaped: head) WHERE status = 'running' AND lease_owner = \(owner) \(unescaped: tail)" }
                return "\(unescaped: head) WHERE \(unescaped: condition!) \(unescaped: tail)"
            }
            try await c.query(which(
                "UPDATE jobs SET status = 'cancelled', completed_at = \(t), lease_token = NULL, lease_expires_at = NULL, cancel_requested = false",
                "AND cancel_requested"), logger: logger)
            var failed = 0
            for try await _ in try await c.query(which(
                """
                UPDATE jobs SET status = 'failed', completed_at = \(t), lease_token = NULL, lease_expires_at = NULL,
                    error = 'abandoned: its run was interrupted ' || (rescues + 1) || ' times (process crash or lost lease); not retried again'
                """, "AND rescues + 1 >= \(maxRescues) RETURNING seq"), logger: logger).decode(Int64.self) { failed += 1 }
            var requeued = 0
            for try await _ in try await c.query(which(
                """
                UPDATE jobs SET status = 'pending', current_month = 0, rescues = rescues + 1, lease_token = NULL,
                    lease_owner = NULL, lease_expires_at = NULL
                """, "RETURNING seq"), logger: logger).decode(Int64.self) { requeued += 1 }
            return Rescue(requeued: requeued, failed: failed)
        }
    }
}

// MARK: Queries

extension PostgresJobStore {
    public func job(_ id: String) async throws -> JobRecord? {
        try await access { [self] in try await client.withConnection { try await fetchJob($0, id) } }
    }

    public func list(after cursor: Int64?, limit: Int) async throws -> JobPage {
        try await access { [self] in
            var jobs: [JobRecord] = []
            for try await row in try await client.query(
                "SELECT \(unescaped: Self.columns) FROM \(unescaped: Self.from) WHERE j.seq > \(cursor ?? 0) ORDER BY j.seq LIMIT \(limit + 1)",
                logger: logger)
            {
                jobs.append(try Self.record(row))
            }
            return JobPage(fetched: jobs, limit: limit)
        }
    }

    public func counts() async throws -> StoreCounts {
        try await access { [self] in
            var counts = JobCounts()
            var cache = 0
            for try await (name, n) in try await client.query("SELECT status, n FROM job_counts", logger: logger).decode((String, Int64).self) {
                if let s = JobStatus(rawValue: name) { counts.byStatus[s] = Int(n) } else if name == "cache_entries" { cache = Int(n) }
            }
            var oldest: Date?
            for try await t in try await client.query(
                "SELECT created_at FROM jobs WHERE status = 'pending' ORDER BY seq LIMIT 1", logger: logger
            ).decode(Double.self) { oldest = Date(timeIntervalSince1970: t) }
            return StoreCounts(jobs: counts, cacheEntries: cache, oldestPending: oldest)
        }
    }

    public func resultInfo(_ jobID: String) async throws -> ResultInfo? {
        try await access { [self] in
            for try await (id, size, chunks) in try await client.query(
                "SELECT r.id, r.size, r.chunks FROM jobs j JOIN results r ON r.id = j.result_id WHERE j.id = \(jobID)", logger: logger
            ).decode((Int64, Int64, Int).self) { return ResultInfo(resultID: id, bytes: Int(size), chunks: chunks) }
            return nil
        }
    }

    public func resultChunk(_ resultID: Int64, index: Int) async throws -> [UInt8]? {
        try await access { [self] in
            for try await data in try await client.query(
                "SELECT data FROM result_chunks WHERE result_id = \(resultID) AND idx = \(index)", logger: logger
            ).decode(ByteBuffer.self) { return Array(buffer: data) }
            return nil
        }
    }

    /// In batches, each its own statement under its own deadline.
    public func sweep(completedBefore cutoff: Date, cacheExpiredBefore: Date) async throws -> Int {
        var total = 0
        while true {
            let deleted = try await access { [client, logger] in
                var n = 0
                for try await _ in try await client.query(
                    """
                    DELETE FROM jobs WHERE seq IN (
                        SELECT seq FROM jobs WHERE status IN ('completed', 'failed', 'cancelled') AND completed_at < \(cutoff.timeIntervalSince1970)
                        LIMIT 500) RETURNING seq
                    """, logger: logger
                ).decode(Int64.self) { n += 1 }
                return n
            }
            total += deleted
            if deleted < 500 { break }
        }
        _ = try await access { [client, logger] in
            try await client.query("DELETE FROM cache_entries WHERE stored_at < \(cacheExpiredBefore.timeIntervalSince1970)", logger: logger)
        }
        while true {
            let deleted = try await access { [client, logger] in
                var n = 0
                for try await _ in try await client.query(
                    """
                    DELETE FROM results WHERE id IN (
                        SELECT r.id FROM results r
                        WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.result_id = r.id)
                          AND NOT EXISTS (SELECT 1 FROM cache_entries c WHERE c.result_id = r.id)
                          AND (r.staged_lease IS NULL
                               OR NOT EXISTS (SELECT 1 FROM jobs j WHERE j.lease_token = r.staged_lease AND j.status = 'running'))
                        LIMIT 50) RETURNING id
                    """, logger: logger
                ).decode(Int64.self) { n += 1 }
                return n
            }
            if deleted < 50 { break }
        }
        return total
    }

    /// A real write in a transaction that is rolled back: a read-only, full or unreachable server fails here.
    public func checkWritable() async throws {
        try await access { [self] in
            try await client.withConnection { c in
                try await c.query("BEGIN", logger: logger)
                do {
                    try await c.query("SET LOCAL statement_timeout = '2s'", logger: logger)
                    try await c.query("INSERT INTO write_probe (at) VALUES (\(Date().timeIntervalSince1970))", logger: logger)
                } catch {
                    _ = try? await c.query("ROLLBACK", logger: logger)
                    throw error
                }
                try await c.query("ROLLBACK", logger: logger)
            }
        }
    }
}
