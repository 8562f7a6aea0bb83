import Foundation
import GRDB

/// The job database's schema, as GRDB migrations (recorded in `grdb_migrations`; each runs once, in a
/// transaction). A file written by the first release (one `jobs` table holding requests, a `results`
/// table holding whole bodies, `PRAGMA user_version = 1`) is carried over by "v2-store-is-truth";
/// "v3-staged-results" lets a result be written in chunks before its job completes.
enum SQLiteSchema {
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v2-store-is-truth") { db in
            let legacy = try db.tableExists("jobs")
            if legacy {
                try db.execute(
                    sql: """
                        DROP INDEX IF EXISTS jobs_status;
                        DROP INDEX IF EXISTS jobs_cache_key;
                        ALTER TABLE jobs RENAME TO legacy_jobs;
                        ALTER TABLE results RENAME TO legacy_results;
                        """)
            }
            try db.execute(sql: schema)
            if legacy { try carryOver(db) }
        }
        // Results are written in chunks while a run encodes them: a staged result names the lease writing it.
        m.registerMigration("v3-staged-results") { db in
            try db.execute(sql: "ALTER TABLE results ADD COLUMN staged_lease TEXT")
        }
        // The submission's W3C traceparent, so every run of the job links to the request that submitted it.
        m.registerMigration("v4-traceparent") { db in
            try db.execute(sql: "ALTER TABLE jobs ADD COLUMN traceparent TEXT")
        }
        return m
    }

    static let schema = """
        CREATE TABLE jobs (
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
            seed INTEGER NOT NULL,
            cache_key TEXT,
            cached INTEGER NOT NULL DEFAULT 0,
            attempts INTEGER NOT NULL DEFAULT 0,
            rescues INTEGER NOT NULL DEFAULT 0,
            client TEXT,
            result_id INTEGER,
            lease_token TEXT,
            lease_owner TEXT,
            lease_expires_at REAL,
            cancel_requested INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX jobs_by_status ON jobs(status, seq);
        CREATE INDEX jobs_pending_by_client ON jobs(client) WHERE status = 'pending';
        CREATE INDEX jobs_by_result ON jobs(result_id) WHERE result_id IS NOT NULL;
        CREATE INDEX jobs_terminal_by_completion ON jobs(completed_at) WHERE status IN ('completed', 'failed', 'cancelled');

        CREATE TABLE job_requests (
            job_id TEXT PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
            body BLOB NOT NULL
        );

        CREATE TABLE results (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            size INTEGER NOT NULL,
            chunks INTEGER NOT NULL,
            created_at REAL NOT NULL
        );
        CREATE TABLE result_chunks (
            result_id INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE,
            idx INTEGER NOT NULL,
            data BLOB NOT NULL,
            PRIMARY KEY (result_id, idx)
        );

        CREATE TABLE cache_entries (
            key TEXT PRIMARY KEY,
            result_id INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE,
            seed INTEGER NOT NULL,
            total_months INTEGER NOT NULL,
            stored_at REAL NOT NULL,
            last_used REAL NOT NULL
        );
        CREATE INDEX cache_entries_by_use ON cache_entries(last_used);
        CREATE INDEX cache_entries_by_result ON cache_entries(result_id);

        -- Counts per status (and of cache entries), kept by triggers at each transition: reading them costs
        -- the same at ten jobs or a million.
        CREATE TABLE job_counts (status TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
        INSERT INTO job_counts (status, n) VALUES ('pending', 0), ('running', 0), ('completed', 0), ('failed', 0), ('cancelled', 0),
            ('cache_entries', 0);
        CREATE TRIGGER cache_count_insert AFTER INSERT ON cache_entries BEGIN
            UPDATE job_counts SET n = n + 1 WHERE status = 'cache_entries';
        END;
        CREATE TRIGGER cache_count_delete AFTER DELETE ON cache_entries BEGIN
            UPDATE job_counts SET n = n - 1 WHERE status = 'cache_entries';
        END;
        CREATE TRIGGER jobs_count_insert AFTER INSERT ON jobs BEGIN
            UPDATE job_counts SET n = n + 1 WHERE status = NEW.status;
        END;
        CREATE TRIGGER jobs_count_delete AFTER DELETE ON jobs BEGIN
            UPDATE job_counts SET n = n - 1 WHERE status = OLD.status;
        END;
        CREATE TRIGGER jobs_count_update AFTER UPDATE OF status ON jobs WHEN OLD.status <> NEW.status BEGIN
            UPDATE job_counts SET n = n - 1 WHERE status = OLD.status;
            UPDATE job_counts SET n = n + 1 WHERE status = NEW.status;
        END;

        CREATE TABLE write_probe (at INTEGER);
        """

    /// Copies the first release's jobs, requests and results into the new tables, a result at a time.
    static func carryOver(_ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO jobs (seq, id, kind, status, created_at, started_at, completed_at, current_month, total_months,
                                  error, seed, cache_key, cached, attempts)
                SELECT seq, id, kind, status, created_at, started_at, completed_at, current_month, total_months,
                       error, seed, cache_key, cached, attempts FROM legacy_jobs ORDER BY seq;
                INSERT INTO job_requests (job_id, body) SELECT id, request FROM legacy_jobs;
                """)
        let ids = try String.fetchAll(db, sql: "SELECT job_id FROM legacy_results")
        for id in ids {
            guard let body = try Data.fetchOne(db, sql: "SELECT body FROM legacy_results WHERE job_id = ?", arguments: [id])
            else { continue }
            let bytes = [UInt8](body)
            let chunks = ResultChunking.split(bytes)
            try db.execute(
                sql: "INSERT INTO results (size, chunks, created_at) VALUES (?, ?, strftime('%s', 'now'))",
                arguments: [bytes.count, chunks.count])
            let resultID = db.lastInsertedRowID
            for (i, chunk) in chunks.enumerated() {
                try db.execute(
                    sql: "INSERT INTO result_chunks (result_id, idx, data) VALUES (?, ?, ?)", arguments: [resultID, i, Data(chunk)])
            }
            try db.execute(sql: "UPDATE jobs SET result_id = ? WHERE id = ?", arguments: [resultID, id])
        }
        try db.execute(sql: "DROP TABLE legacy_results; DROP TABLE legacy_jobs;")
    }
}
