import Foundation
import GRDB
import Jobs
import Testing

@Suite struct JobLifecycleTests {
    @Test func allowedTransitions() {
        #expect(JobStatus.pending.canTransition(to: .running))
        #expect(JobStatus.pending.canTransition(to: .cancelled))
        #expect(JobStatus.running.canTransition(to: .completed))
        #expect(JobStatus.running.canTransition(to: .failed))
        #expect(JobStatus.running.canTransition(to: .cancelled))
        #expect(JobStatus.running.canTransition(to: .pending))
        for terminal in [JobStatus.completed, .failed, .cancelled] {
            #expect(terminal.isTerminal)
            #expect(JobStatus.allCases.allSatisfy { !terminal.canTransition(to: $0) })
        }
        #expect(!JobStatus.pending.canTransition(to: .completed))
    }

    @Test func eventIDsFollowProgress() {
        var s = JobSnapshot(jobID: "j", status: .pending, currentMonth: 0, totalMonths: 12)
        #expect(s.eventID == 0)
        s.status = .running
        s.currentMonth = 5
        #expect(s.eventID == 6)
        #expect(s.event(id: 3) == JobSnapshot(jobID: "j", status: .running, currentMonth: 2, totalMonths: 12))
        s.status = .completed
        s.currentMonth = 12
        #expect(s.eventID == 14)
        #expect(s.doneEventID == 15)
    }
}

@Suite struct SHA256Tests {
    @Test func knownVectors() {
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex(Array(repeating: UInt8(ascii: "a"), count: 1000)).count == 64)
    }
}

@Suite struct ResultCacheKeyTests {
    @Test func keyIgnoresSpelledOutDefaults() throws {
        let a = try request(seed: 3)
        var b = a
        b.abm.pricing.holdingTime = 6.0
        #expect(ResultCache.key(for: a) == ResultCache.key(for: b))
        #expect(ResultCache.key(for: a).count == 16)
        #expect(ResultCache.key(for: a) != ResultCache.key(for: try request(seed: 4)))
    }
}


@Suite struct SQLiteJobStoreTests {
    static let t0 = Date(timeIntervalSince1970: 1_000_000)

    @Test func persistsAcrossConnectionsInWALMode() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            let store = SQLiteJobStore(directory: dir)
            _ = try await store.admit(JobStoreContractTests.submission("persisted"), limits: JobStoreContractTests.open, now: Self.t0)
        }
        let again = SQLiteJobStore(directory: dir)
        try await again.migrate()
        #expect(try await again.job("persisted")?.seed == 7)
        #expect(FileManager.default.fileExists(atPath: dir + "/jobs.sqlite3-wal"))
    }

    @Test func unwritableDirectoryIsReportedAndRecovers() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let blocked = dir + "/blocked"
        // A regular file where the data directory should be: nothing can be created inside it.
        FileManager.default.createFile(atPath: blocked, contents: Data())
        let store = SQLiteJobStore(directory: blocked)
        await #expect(throws: JobStoreError.self) { try await store.migrate() }
        try FileManager.default.removeItem(atPath: blocked)
        try await store.migrate()
        try await store.checkWritable()
    }

    /// A cache hit writes one job row and no result bytes: the result is stored once.
    @Test func aCacheHitAddsNoResultBytes() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = SQLiteJobStore(directory: dir)
        _ = try await store.admit(JobStoreContractTests.submission("orig", cacheKey: "k"), limits: JobStoreContractTests.open, now: Self.t0)
        let c = try #require(try await store.claim(owner: "w", leaseSeconds: 30, now: Self.t0))
        let big = Array(repeating: UInt8(ascii: "x"), count: 3 * 1024 * 1024)
        #expect(try await store.complete(c.lease, result: big, cacheKey: "k", cacheMaxEntries: 10, now: Self.t0))
        func stored() throws -> (results: Int, bytes: Int) {
            let q = try DatabaseQueue(path: dir + "/jobs.sqlite3")
            return try q.read { db in
                (try Int.fetchOne(db, sql: "SELECT count(*) FROM results")!,
                 try Int.fetchOne(db, sql: "SELECT coalesce(sum(length(data)), 0) FROM result_chunks")!)
            }
        }
        let before = try stored()
        for i in 0..<5 {
            let hit = try await store.admit(
                JobStoreContractTests.submission("hit\(i)", cacheKey: "k"), limits: JobStoreContractTests.open, now: Self.t0)
            guard case .cached = hit else { Issue.record("expected a hit, got \(hit)"); return }
        }
        let after = try stored()
        #expect(before.results == 1 && after.results == 1)
        #expect(before.bytes == big.count && after.bytes == big.count)
    }

    /// A file written by the first release (requests in `jobs`, whole bodies in `results`) is carried over.
    @Test func migratesTheFirstReleasesFile() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let legacy = try DatabaseQueue(path: dir + "/jobs.sqlite3")
        let body = Array(repeating: UInt8(ascii: "b"), count: ResultChunking.chunkBytes + 10)
        try await legacy.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
                        status TEXT NOT NULL, created_at REAL NOT NULL, started_at REAL, completed_at REAL,
                        current_month INTEGER NOT NULL DEFAULT 0, total_months INTEGER NOT NULL, error TEXT, request BLOB NOT NULL,
                        seed INTEGER NOT NULL, cache_key TEXT, cached INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0);
                    CREATE TABLE results (job_id TEXT PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE, body BLOB NOT NULL);
                    CREATE INDEX jobs_status ON jobs(status);
                    CREATE INDEX jobs_cache_key ON jobs(cache_key);
                    PRAGMA user_version = 1;
                    INSERT INTO jobs (id, kind, status, created_at, completed_at, total_months, request, seed, attempts)
                        VALUES ('done', 'abm', 'completed', 1000, 1001, 12, X'7B7D', 5, 1);
                    INSERT INTO jobs (id, kind, status, created_at, total_months, request, seed)
                        VALUES ('queued', 'monte_carlo', 'pending', 1002, 10, X'7B2278223A317D', 6);
                    """)
            try db.execute(sql: "INSERT INTO results (job_id, body) VALUES ('done', ?)", arguments: [Data(body)])
        }
        try legacy.close()
        let store = SQLiteJobStore(directory: dir)
        try await store.migrate()
        let page = try await store.list(after: nil, limit: 10)
        #expect(page.jobs.map(\.id) == ["done", "queued"])
        #expect(page.jobs[0].status == .completed && page.jobs[0].resultBytes == body.count)
        let info = try #require(try await store.resultInfo("done"))
        #expect(info.chunks == 2)
        #expect(try await store.counts().jobs == JobCounts(byStatus: [.completed: 1, .pending: 1]))
        let claimed = try #require(try await store.claim(owner: "w", leaseSeconds: 30, now: Self.t0))
        #expect(claimed.job.id == "queued" && claimed.job.kind == .monteCarlo && claimed.request == Array(#"{"x":1}"#.utf8))
    }
}
