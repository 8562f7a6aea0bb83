import Foundation
import Simulation

/// Seeded ABM results are reused by a hash of the canonical request. The entries live in the job store
/// (bounded by `ABM_CACHE_MAX_ENTRIES`, least recently used first, and by `ABM_CACHE_TTL_MINUTES`) and point
/// at a stored result: a hit adds a job row referring to it, and no result bytes.
public enum ResultCache {
    /// The cache key: the first 16 hex digits of SHA-256 over the canonical request with sorted keys.
    public static func key(for request: ABMRequest) -> String {
        String(SHA256.hex(JSONWriter.bytes(request.canonicalJSON.sortedKeys)).prefix(16))
    }
}
