import Foundation
import GRDB
import Jobs

/// `abm-bench seed-jobs DIR COUNT`: adds finished jobs to the job database in DIR until it holds COUNT, for
/// benchmarks/jobs.sh (memory, listing and startup with a million stored jobs). The store creates the
/// schema; rows are then written directly, in batches, as a long-lived service would have left them: each
/// job with its request, results shared a thousand jobs to one (as cache hits share them).
enum JobSeeder {
    static func run(directory: String, count: Int) async throws -> [String: Any] {
        let store = SQLiteJobStore(directory: directory)
        try await store.migrate()
        let pool = try DatabasePool(path: store.path)
        let clock = ContinuousClock()
        let start = clock.now
        let existing = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM jobs") ?? 0 }
        let request = Data(#"{"token":{"name":"Seed","total_supply":1000000,"start_date":"2026-01-01","horizon_months":12}}"#.utf8)
        let result = Data(repeating: UInt8(ascii: "x"), count: 2048)
        let now = Date().timeIntervalSince1970
        var made = existing
        while made < count {
            let batch = min(50_000, count - made)
            let first = made
            try await pool.write { db in
                let insertJob = try db.cachedStatement(
                    sql: """
                        INSERT INTO jobs (id, kind, status, created_at, started_at, completed_at, current_month, total_months,
                                          seed, cached, attempts, client, result_id)
                        VALUES (?, 'abm', 'completed', ?, ?, ?, 12, 12, ?, 0, 1, '127.0.0.1', ?)
                        """)
                let insertRequest = try db.cachedStatement(sql: "INSERT INTO job_requests (job_id, body) VALUES (?, ?)")
                var resultID: Int64 = 0
                for i in first..<(first + batch) {
                    if i % 1000 == 0 || resultID == 0 {
                        try db.execute(sql: "INSERT INTO results (size, chunks, created_at) VALUES (?, 1, ?)", arguments: [result.count, now])
                        resultID = db.lastInsertedRowID
                        try db.execute(
                            sql: "INSERT INTO result_chunks (result_id, idx, data) VALUES (?, 0, ?)", arguments: [resultID, result])
                    }
                    let id = String(format: "abm_seed%07d", i)
                    try insertJob.execute(arguments: [id, now, now, now, i, resultID])
                    try insertRequest.execute(arguments: [id, request])
                }
            }
            made += batch
        }
        try pool.close()
        let seconds = Double((clock.now - start).components.attoseconds) / 1e18 + Double((clock.now - start).components.seconds)
        return ["case": "seed-jobs", "jobs": count, "added": count - existing, "seconds": seconds]
    }
}
