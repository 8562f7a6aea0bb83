import Foundation
import Simulation

/// Seeded ABM results by request hash, bounded in count (least recently used goes first) and in age.
/// The cache holds job ids; the results themselves stay in the job store.
public struct ResultCache: Sendable {
    public let maxEntries: Int
    public let maxAge: TimeInterval
    private var entries: [String: (jobID: String, storedAt: Date, lastUsed: UInt64)] = [:]
    private var tick: UInt64 = 0

    public init(maxEntries: Int, maxAge: TimeInterval) {
        self.maxEntries = maxEntries
        self.maxAge = maxAge
    }

    public var count: Int { entries.count }

    /// The cache key: the first 16 hex digits of SHA-256 over the canonical request with sorted keys.
    public static func key(for request: ABMRequest) -> String {
        String(SHA256.hex(JSONWriter.bytes(request.canonicalJSON.sortedKeys)).prefix(16))
    }

    public mutating func lookup(_ key: String, now: Date) -> String? {
        guard let e = entries[key] else { return nil }
        if now.timeIntervalSince(e.storedAt) > maxAge {
            entries[key] = nil
            return nil
        }
        tick += 1
        entries[key]?.lastUsed = tick
        return e.jobID
    }

    public mutating func store(_ key: String, jobID: String, at date: Date) {
        guard maxEntries > 0 else { return }
        tick += 1
        entries[key] = (jobID, date, tick)
        if entries.count > maxEntries, let oldest = entries.min(by: { $0.value.lastUsed < $1.value.lastUsed }) {
            entries[oldest.key] = nil
        }
    }

    /// Drops entries older than `maxAge` and entries whose job was deleted.
    public mutating func evict(now: Date, deletedJobs: Set<String> = []) {
        entries = entries.filter { now.timeIntervalSince($0.value.storedAt) <= maxAge && !deletedJobs.contains($0.value.jobID) }
    }
}
