import Foundation
import Synchronization

/// Jobs in memory: for tests and for running without a data directory (`ABM_JOB_STORE=memory`).
public final class InMemoryJobStore: JobStore {
    private struct State {
        var jobs: [String: JobRecord] = [:]
        var order: [String] = []
        var results: [String: [UInt8]] = [:]
    }
    private let state = Mutex(State())

    public init() {}

    public func migrate() async throws {}
    public func checkWritable() async throws {}

    public func insert(_ job: JobRecord) async throws {
        try state.withLock { s in
            if s.jobs[job.id] != nil { throw JobStoreError.unavailable("duplicate job id \(job.id)") }
            s.jobs[job.id] = job
            s.order.append(job.id)
        }
    }

    public func update(_ job: JobRecord) async throws {
        try state.withLock { s in
            guard s.jobs[job.id] != nil else { throw JobStoreError.notFound(job.id) }
            var j = job
            j.request = s.jobs[job.id]!.request
            s.jobs[job.id] = j
        }
    }

    public func complete(_ job: JobRecord, result: [UInt8]) async throws {
        try await update(job)
        state.withLock { $0.results[job.id] = result }
    }

    public func job(_ id: String) async throws -> JobRecord? { state.withLock { $0.jobs[id] } }
    public func result(_ id: String) async throws -> [UInt8]? { state.withLock { $0.results[id] } }

    public func allJobs() async throws -> [JobRecord] {
        state.withLock { s in s.order.compactMap { s.jobs[$0] } }
    }

    public func deleteTerminal(completedBefore cutoff: Date) async throws -> [String] {
        state.withLock { s in
            let ids = s.order.filter { id in
                guard let j = s.jobs[id], j.status.isTerminal, let done = j.completedAt else { return false }
                return done < cutoff
            }
            for id in ids {
                s.jobs[id] = nil
                s.results[id] = nil
            }
            s.order.removeAll { ids.contains($0) }
            return ids
        }
    }
}
