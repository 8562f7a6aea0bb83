import Foundation

/// Where jobs and their results live. Two implementations: SQLite (the embedded default) and memory.
/// The protocol is small so that a networked store can follow.
public protocol JobStore: Sendable {
    /// Creates or upgrades the schema; must run before anything else.
    func migrate() async throws
    func insert(_ job: JobRecord) async throws
    /// Saves status, timestamps, progress and error of an existing job.
    func update(_ job: JobRecord) async throws
    /// Saves the result and marks the job completed, atomically.
    func complete(_ job: JobRecord, result: [UInt8]) async throws
    func job(_ id: String) async throws -> JobRecord?
    func result(_ id: String) async throws -> [UInt8]?
    /// Every job in submission order.
    func allJobs() async throws -> [JobRecord]
    /// Deletes terminal jobs completed before `cutoff`; returns their ids.
    func deleteTerminal(completedBefore cutoff: Date) async throws -> [String]
    /// Checks that the store can be written now (readiness).
    func checkWritable() async throws
}

public enum JobStoreError: Error, Equatable, CustomStringConvertible {
    case notFound(String)
    case unavailable(String)

    public var description: String {
        switch self {
        case .notFound(let id): return "job \(id) not found in the store"
        case .unavailable(let why): return "job store unavailable: \(why)"
        }
    }
}
