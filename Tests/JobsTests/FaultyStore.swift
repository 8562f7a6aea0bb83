import Foundation
@testable import Jobs
import Synchronization

/// A store that forwards to another and fails the operations a test names, a given number of times
/// (or always): how a test makes a status write or a recovery fail without a broken disk.
final class FaultyStore: JobStore {
    enum Operation: Hashable { case migrate, requeue, claim, renew, complete, fail, cancelled, release, cancel }
    let inner: any JobStore
    private let failures = Mutex<[Operation: Int]>([:])
    private let calls = Mutex<[Operation: Int]>([:])

    init(_ inner: any JobStore) { self.inner = inner }

    /// Fails `op` the next `times` calls (Int.max: until told otherwise).
    func failNext(_ op: Operation, times: Int = .max) { failures.withLock { $0[op] = times } }
    func heal(_ op: Operation) { failures.withLock { $0[op] = 0 } }
    func callCount(_ op: Operation) -> Int { calls.withLock { $0[op] ?? 0 } }

    private func check(_ op: Operation) throws {
        calls.withLock { $0[op, default: 0] += 1 }
        let fail = failures.withLock { f -> Bool in
            guard let n = f[op], n > 0 else { return false }
            f[op] = n == .max ? n : n - 1
            return true
        }
        if fail { throw JobStoreError.unavailable("injected fault: \(op)") }
    }

    func migrate() async throws {
        try check(.migrate)
        try await inner.migrate()
    }
    func admit(_ submission: NewJob, limits: AdmissionLimits, now: Date) async throws -> Admission {
        try await inner.admit(submission, limits: limits, now: now)
    }
    func claim(owner: String, leaseSeconds: Double, now: Date) async throws -> ClaimedJob? {
        try check(.claim)
        return try await inner.claim(owner: owner, leaseSeconds: leaseSeconds, now: now)
    }
    func renew(_ lease: Lease, currentMonth: Int, leaseSeconds: Double, now: Date) async throws -> LeaseState? {
        try check(.renew)
        return try await inner.renew(lease, currentMonth: currentMonth, leaseSeconds: leaseSeconds, now: now)
    }
    func beginResult(_ lease: Lease, now: Date) async throws -> ResultUpload? { try await inner.beginResult(lease, now: now) }
    func appendResult(_ upload: ResultUpload, chunks: [[UInt8]]) async throws -> ResultUpload? {
        try await inner.appendResult(upload, chunks: chunks)
    }
    func complete(_ lease: Lease, upload: ResultUpload, cacheKey: String?, cacheMaxEntries: Int, now: Date) async throws -> Bool {
        try check(.complete)
        return try await inner.complete(lease, upload: upload, cacheKey: cacheKey, cacheMaxEntries: cacheMaxEntries, now: now)
    }
    func fail(_ lease: Lease, error: String, currentMonth: Int, now: Date) async throws -> Bool {
        try check(.fail)
        return try await inner.fail(lease, error: error, currentMonth: currentMonth, now: now)
    }
    func cancelled(_ lease: Lease, currentMonth: Int, now: Date) async throws -> Bool {
        try check(.cancelled)
        return try await inner.cancelled(lease, currentMonth: currentMonth, now: now)
    }
    func release(_ lease: Lease) async throws -> Bool {
        try check(.release)
        return try await inner.release(lease)
    }
    func cancel(_ id: String, now: Date) async throws -> CancelOutcome {
        try check(.cancel)
        return try await inner.cancel(id, now: now)
    }
    func requeueAbandoned(leaseExpiredBefore: Date?, maxRescues: Int, now: Date) async throws -> Rescue {
        try check(.requeue)
        return try await inner.requeueAbandoned(leaseExpiredBefore: leaseExpiredBefore, maxRescues: maxRescues, now: now)
    }
    func job(_ id: String) async throws -> JobRecord? { try await inner.job(id) }
    func list(after cursor: Int64?, limit: Int) async throws -> JobPage { try await inner.list(after: cursor, limit: limit) }
    func counts() async throws -> StoreCounts { try await inner.counts() }
    func resultInfo(_ jobID: String) async throws -> ResultInfo? { try await inner.resultInfo(jobID) }
    func resultChunk(_ resultID: Int64, index: Int) async throws -> [UInt8]? { try await inner.resultChunk(resultID, index: index) }
    func sweep(completedBefore cutoff: Date, cacheExpiredBefore: Date) async throws -> Int {
        try await inner.sweep(completedBefore: cutoff, cacheExpiredBefore: cacheExpiredBefore)
    }
    func checkWritable() async throws { try await inner.checkWritable() }
}
