import Dispatch
import Foundation

/// Jobs in one SQLite file (WAL mode, full sync): a job is on disk before its submission is answered.
///
/// Every call runs on one serial queue, off the Swift concurrency pool, so a slow disk never stalls request
/// handling. If the file cannot be opened (a read-only directory, a lock held elsewhere), calls fail with
/// `JobStoreError.unavailable` and the next call tries again, so the store recovers when the fault clears.
public final class SQLiteJobStore: JobStore, @unchecked Sendable {
    public let path: String
    private let queue = DispatchQueue(label: "abm.jobstore")
    private var connection: SQLiteConnection?

    /// Schema versions, applied in order; `PRAGMA user_version` records the last one applied.
    static let migrations: [String] = [
        """
        CREATE TABLE IF NOT EXISTS jobs (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at REAL NOT NULL,
            started_at REAL,
            completed_at REAL,
            current_month INTEGER NOT NULL DEFAULT 0,
            total_months INTEGER NOT NULL,
            error TEXT,
            request BLOB NOT NULL,
            seed INTEGER NOT NULL,
            cache_key TEXT,
            cached INTEGER NOT NULL DEFAULT 0,
            attempts INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE IF NOT EXISTS results (
            job_id TEXT PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
            body BLOB NOT NULL
        );
        CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status);
        CREATE INDEX IF NOT EXISTS jobs_cache_key ON jobs(cache_key);
        """
    ]

    /// `directory/jobs.sqlite3`; the directory is created if missing.
    public init(directory: String) {
        self.path = (directory as NSString).appendingPathComponent("jobs.sqlite3")
    }

    private func open() throws -> SQLiteConnection {
        if let connection { return connection }
        let dir = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let c = try SQLiteConnection(path: path)
            try c.execute("PRAGMA journal_mode=WAL")
            try c.execute("PRAGMA synchronous=FULL")
            try c.execute("PRAGMA foreign_keys=ON")
            try Self.migrate(c)
            connection = c
            return c
        } catch let f as SQLiteConnection.Failure {
            throw JobStoreError.unavailable("\(path): \(f.message)")
        } catch {
            throw JobStoreError.unavailable("\(path): \(error.localizedDescription)")
        }
    }

    static func migrate(_ c: SQLiteConnection) throws {
        var version: Int64 = 0
        try c.query("PRAGMA user_version") { version = $0.int(0) }
        for (i, sql) in migrations.enumerated() where Int64(i + 1) > version {
            try c.transaction {
                try c.execute(sql)
                try c.execute("PRAGMA user_version = \(i + 1)")
            }
        }
    }

    public var schemaVersion: Int { Self.migrations.count }

    /// Runs `body` on the store's queue with an open connection. A failing connection is dropped so the
    /// next call reopens it.
    private func run<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (k: CheckedContinuation<T, any Error>) in
            queue.async {
                do {
                    let c = try self.open()
                    do {
                        k.resume(returning: try body(c))
                    } catch let f as SQLiteConnection.Failure {
                        if !f.isBusy { self.connection = nil }
                        k.resume(throwing: JobStoreError.unavailable("\(self.path): \(f.message)"))
                    }
                } catch {
                    k.resume(throwing: error)
                }
            }
        }
    }

    public func migrate() async throws {
        try await run { _ in }
    }

    /// Writes (the schema version, unchanged) inside a transaction it rolls back: a read-only file or file
    /// system fails here ("attempt to write a readonly database"), where taking the lock alone would pass.
    /// The probe does not wait long for a lock another process holds: it fails within 250 ms saying
    /// "database is locked", well inside the health check's deadline.
    public func checkWritable() async throws {
        let version = Self.migrations.count
        try await run { c in
            c.setBusyTimeout(milliseconds: 250)
            defer { c.setBusyTimeout(milliseconds: 2000) }
            try c.execute("BEGIN IMMEDIATE")
            do {
                try c.execute("PRAGMA user_version = \(version)")
                try c.execute("ROLLBACK")
            } catch {
                try? c.execute("ROLLBACK")
                throw error
            }
        }
    }

    static let columns =
        "id, kind, status, created_at, started_at, completed_at, current_month, total_months, error, request, seed, cache_key, cached, attempts"

    static func bindings(_ j: JobRecord) -> [SQLiteValue] {
        [
            .text(j.id), .text(j.kind.rawValue), .text(j.status.rawValue), .real(j.createdAt.timeIntervalSince1970),
            .optional(j.startedAt?.timeIntervalSince1970), .optional(j.completedAt?.timeIntervalSince1970),
            .integer(Int64(j.currentMonth)), .integer(Int64(j.totalMonths)), .optional(j.error), .blob(j.request),
            .integer(Int64(j.seed)), .optional(j.cacheKey), .integer(j.cached ? 1 : 0), .integer(Int64(j.attempts)),
        ]
    }

    static func record(_ r: SQLiteRow) -> JobRecord {
        JobRecord(
            id: r.text(0) ?? "", kind: JobKind(rawValue: r.text(1) ?? "") ?? .abm,
            status: JobStatus(rawValue: r.text(2) ?? "") ?? .failed,
            createdAt: Date(timeIntervalSince1970: r.double(3)),
            startedAt: r.optionalDouble(4).map(Date.init(timeIntervalSince1970:)),
            completedAt: r.optionalDouble(5).map(Date.init(timeIntervalSince1970:)), currentMonth: Int(r.int(6)),
            totalMonths: Int(r.int(7)), error: r.text(8), request: r.blob(9) ?? [], seed: UInt32(truncatingIfNeeded: r.int(10)),
            cacheKey: r.text(11), cached: r.int(12) != 0, attempts: Int(r.int(13)))
    }

    public func insert(_ job: JobRecord) async throws {
        try await run { c in
            try c.query("INSERT INTO jobs (\(Self.columns)) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", Self.bindings(job))
        }
    }

    public func update(_ job: JobRecord) async throws {
        try await run { c in
            try c.query(
                "UPDATE jobs SET status=?, started_at=?, completed_at=?, current_month=?, total_months=?, error=?, attempts=? WHERE id=?",
                [
                    .text(job.status.rawValue), .optional(job.startedAt?.timeIntervalSince1970),
                    .optional(job.completedAt?.timeIntervalSince1970), .integer(Int64(job.currentMonth)),
                    .integer(Int64(job.totalMonths)), .optional(job.error), .integer(Int64(job.attempts)), .text(job.id),
                ])
            if c.changes == 0 { throw JobStoreError.notFound(job.id) }
        }
    }

    public func complete(_ job: JobRecord, result: [UInt8]) async throws {
        try await run { c in
            try c.transaction {
                try c.query("INSERT OR REPLACE INTO results (job_id, body) VALUES (?, ?)", [.text(job.id), .blob(result)])
                try c.query(
                    "UPDATE jobs SET status=?, started_at=?, completed_at=?, current_month=?, total_months=?, error=NULL, attempts=? WHERE id=?",
                    [
                        .text(job.status.rawValue), .optional(job.startedAt?.timeIntervalSince1970),
                        .optional(job.completedAt?.timeIntervalSince1970), .integer(Int64(job.currentMonth)),
                        .integer(Int64(job.totalMonths)), .integer(Int64(job.attempts)), .text(job.id),
                    ])
            }
        }
    }

    public func job(_ id: String) async throws -> JobRecord? {
        try await run { c in
            var found: JobRecord?
            try c.query("SELECT \(Self.columns) FROM jobs WHERE id = ?", [.text(id)]) { found = Self.record($0) }
            return found
        }
    }

    public func result(_ id: String) async throws -> [UInt8]? {
        try await run { c in
            var body: [UInt8]?
            try c.query("SELECT body FROM results WHERE job_id = ?", [.text(id)]) { body = $0.blob(0) }
            return body
        }
    }

    public func allJobs() async throws -> [JobRecord] {
        try await run { c in
            var out: [JobRecord] = []
            try c.query("SELECT \(Self.columns) FROM jobs ORDER BY seq") { out.append(Self.record($0)) }
            return out
        }
    }

    public func deleteTerminal(completedBefore cutoff: Date) async throws -> [String] {
        try await run { c in
            try c.transaction {
                var ids: [String] = []
                try c.query(
                    "SELECT id FROM jobs WHERE status IN ('completed','failed','cancelled') AND completed_at < ?",
                    [.real(cutoff.timeIntervalSince1970)]
                ) { ids.append($0.text(0) ?? "") }
                for id in ids { try c.query("DELETE FROM jobs WHERE id = ?", [.text(id)]) }
                return ids
            }
        }
    }
}
