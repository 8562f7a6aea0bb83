import Foundation
import Telemetry

#if canImport(Glibc)
    import Glibc
#endif
import Synchronization

/// Host CPU and memory use for `/api/v1/health`, read from /proc without blocking (D31: the original
/// slept 100 ms per call to sample CPU). CPU use is measured between consecutive calls, at least 100 ms
/// apart; the first call reports use since boot. Under a hardened unit that hides host-wide /proc files,
/// CPU and memory are this process's share.
final class HostMetrics: Sendable {
    private struct Sample {
        var busy: UInt64
        var total: UInt64
        var at: ContinuousClock.Instant
    }
    private let last = Mutex<(Sample?, Double)>((nil, 0))

    func cpuPercent() -> Double {
        guard let now = Self.readCPU() else { return 0 }
        return last.withLock { state in
            let (previous, cached) = state
            guard let previous else {
                state = (now, now.total > 0 ? Double(now.busy) / Double(now.total) * 100 : 0)
                return state.1
            }
            if now.at - previous.at < .milliseconds(100) { return cached }
            let dt = now.total &- previous.total
            let value = dt > 0 ? Double(now.busy &- previous.busy) / Double(dt) * 100 : cached
            state = (now, value)
            return value
        }
    }

    private static func readCPU() -> Sample? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = text.split(separator: "\n").first, line.hasPrefix("cpu ")
        else { return processCPU() }
        let v = line.split(separator: " ").dropFirst().compactMap { UInt64($0) }
        guard v.count >= 4 else { return nil }
        let idle = v[3] + (v.count > 4 ? v[4] : 0)
        let total = v.reduce(0, +)
        return Sample(busy: total - idle, total: total, at: .now)
    }

    /// When /proc/stat is hidden (ProcSubset=pid), this process's CPU time against all cores' wall time.
    private static func processCPU() -> Sample? {
        guard let r = try? ProcessCollector.read() else { return nil }
        let cores = Double(ProcessInfo.processInfo.activeProcessorCount)
        let wall = Date().timeIntervalSince1970 - r.startTime
        return Sample(busy: UInt64(r.cpuSeconds * 100), total: UInt64(max(wall, 0.01) * cores * 100), at: .now)
    }

    func memoryPercent() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else {
            // A hardened unit (ProcSubset=pid) hides /proc/meminfo: report this process's share of memory.
            let total = Double(ProcessInfo.processInfo.physicalMemory)
            guard total > 0, let rss = try? ProcessCollector.read().residentBytes else { return 0 }
            return rss / total * 100
        }
        var total = 0.0
        var available = 0.0
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count >= 2, let v = Double(parts[1]) else { continue }
            if parts[0] == "MemTotal:" { total = v }
            if parts[0] == "MemAvailable:" { available = v }
        }
        return total > 0 ? (total - available) / total * 100 : 0
    }
}
