/// The PostgreSQL schema, as versioned migrations applied in order (recorded in `abm_migrations`). Times are
/// seconds since 1970 (double precision), as in the SQLite store.
enum PostgresSchema {
    static let migrations: [(version: String, statements: [String])] = [
        (
            "v1-jobs",
            [
                """
                CREATE TABLE jobs (
                    seq BIGSERIAL PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    kind TEXT NOT NULL,
                    status TEXT NOT NULL,
                    created_at DOUBLE PRECISION NOT NULL,
                    started_at DOUBLE PRECISION,
                    completed_at DOUBLE PRECISION,
                    current_month INTEGER NOT NULL DEFAULT 0,
                    total_months INTEGER NOT NULL,
                    error TEXT,
                    seed BIGINT NOT NULL,
                    cache_key TEXT,
                    cached BOOLEAN NOT NULL DEFAULT false,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    rescues INTEGER NOT NULL DEFAULT 0,
                    client TEXT,
                    result_id BIGINT,
                    lease_token TEXT,
                    lease_owner TEXT,
                    lease_expires_at DOUBLE PRECISION,
                    cancel_requested BOOLEAN NOT NULL DEFAULT false
                )
                """,
                "CREATE INDEX jobs_pending ON jobs (seq) WHERE status = 'pending'",
                "CREATE INDEX jobs_running_leases ON jobs (lease_expires_at) WHERE status = 'running'",
                "CREATE INDEX jobs_pending_by_client ON jobs (client) WHERE status = 'pending'",
                "CREATE INDEX jobs_by_result ON jobs (result_id) WHERE result_id IS NOT NULL",
                "CREATE INDEX jobs_by_lease ON jobs (lease_token) WHERE lease_token IS NOT NULL",
                "CREATE INDEX jobs_terminal_by_completion ON jobs (completed_at) WHERE status IN ('completed', 'failed', 'cancelled')",
                "CREATE TABLE job_requests (job_id TEXT PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE, body BYTEA NOT NULL)",
                """
                CREATE TABLE results (
                    id BIGSERIAL PRIMARY KEY, size BIGINT NOT NULL, chunks INTEGER NOT NULL,
                    created_at DOUBLE PRECISION NOT NULL, staged_lease TEXT
                )
                """,
                """
                CREATE TABLE result_chunks (
                    result_id BIGINT NOT NULL REFERENCES results (id) ON DELETE CASCADE, idx INTEGER NOT NULL, data BYTEA NOT NULL,
                    PRIMARY KEY (result_id, idx)
                )
                """,
                """
                CREATE TABLE cache_entries (
                    key TEXT PRIMARY KEY, result_id BIGINT NOT NULL REFERENCES results (id) ON DELETE CASCADE,
                    seed BIGINT NOT NULL, total_months INTEGER NOT NULL, stored_at DOUBLE PRECISION NOT NULL,
                    last_used DOUBLE PRECISION NOT NULL
                )
                """,
                "CREATE INDEX cache_entries_by_use ON cache_entries (last_used)",
                "CREATE INDEX cache_entries_by_result ON cache_entries (result_id)",
                // Counts per status and of cache entries, kept by triggers: reading them costs the same at ten jobs or
                // a million, on every instance.
                "CREATE TABLE job_counts (status TEXT PRIMARY KEY, n BIGINT NOT NULL)",
                """
                INSERT INTO job_counts (status, n) VALUES ('pending', 0), ('running', 0), ('completed', 0), ('failed', 0),
                    ('cancelled', 0), ('cache_entries', 0)
                """,
                """
                CREATE FUNCTION abm_count_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP = 'INSERT' THEN
                        UPDATE job_counts SET n = n + 1 WHERE status = NEW.status;
                    ELSIF TG_OP = 'DELETE' THEN
                        UPDATE job_counts SET n = n - 1 WHERE status = OLD.status;
                    ELSIF OLD.status <> NEW.status THEN
                        UPDATE job_counts SET n = n - 1 WHERE status = OLD.status;
                        UPDATE job_counts SET n = n + 1 WHERE status = NEW.status;
                    END IF;
                    RETURN NULL;
                END $$
                """,
                "CREATE TRIGGER jobs_count AFTER INSERT OR DELETE OR UPDATE OF status ON jobs FOR EACH ROW EXECUTE FUNCTION abm_count_jobs()",
                """
                CREATE FUNCTION abm_count_cache() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP = 'INSERT' THEN
                        UPDATE job_counts SET n = n + 1 WHERE status = 'cache_entries';
                    ELSE
                        UPDATE job_counts SET n = n - 1 WHERE status = 'cache_entries';
                    END IF;
                    RETURN NULL;
                END $$
                """,
                "CREATE TRIGGER cache_count AFTER INSERT OR DELETE ON cache_entries FOR EACH ROW EXECUTE FUNCTION abm_count_cache()",
                // Readiness writes here, in a transaction it rolls back: nothing is kept, nothing contends.
                "CREATE TABLE write_probe (at DOUBLE PRECISION NOT NULL)",
                // The queue table churns: vacuum it after 2% of its rows changed, not the default 20%.
                "ALTER TABLE jobs SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02)",
            ]
        ),
        // The submission's W3C traceparent, so every run of the job links to the request that submitted it.
        ("v2-traceparent", ["ALTER TABLE jobs ADD COLUMN traceparent TEXT"]),
    ]
}
