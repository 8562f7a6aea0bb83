import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Free space where the data lives: warn below twice the minimum, fail below it.
public struct DiskSpaceCheck: HealthCheck {
    public let name = "disk:free"
    public let probes: HealthProbes = [.ready]
    public let path: String
    public let minimumFreeBytes: UInt64

    public init(path: String, minimumFreeBytes: UInt64) {
        self.path = path
        self.minimumFreeBytes = minimumFreeBytes
    }

    public func check() async -> HealthCheckResult {
        guard let (free, target) = Self.freeBytes(at: path) else { return HealthCheckResult(.fail, output: "cannot stat the data directory") }
        let status: HealthStatus = free < minimumFreeBytes ? .fail : (free < 2 * minimumFreeBytes ? .warn : .pass)
        return HealthCheckResult(status, observedValue: Double(free), observedUnit: "bytes", output: status == .pass ? nil : "\(free) bytes free at \(target)")
    }

    /// Whether the check would fail now: a reason, or nil. Cheap (one statvfs), so admission can ask it.
    public func failure() -> String? {
        guard let (free, _) = Self.freeBytes(at: path) else { return "cannot stat the data directory" }
        return free < minimumFreeBytes ? "\(free) bytes free, below the \(minimumFreeBytes) required" : nil
    }

    /// Bytes available to this user on the file system of `path`, or of its nearest existing parent (the
    /// data directory may not exist yet). Plain string code: Foundation's path APIs trap on some inputs.
    public static func freeBytes(at path: String) -> (free: UInt64, at: String)? {
        var s = statvfs()
        var target = path.isEmpty ? "." : path
        while statvfs(target, &s) != 0 {
            let parent = PathString.parent(of: target)
            if parent == target { return nil }
            target = parent
        }
        return (UInt64(s.f_bavail) * UInt64(s.f_frsize), target)
    }
}

/// Resident memory against a limit (`ABM_MEMORY_LIMIT_BYTES`, else the cgroup's memory.max): warn above
/// 80%, fail above 95%. Without a limit it only reports the value.
public struct MemoryCheck: HealthCheck {
    public let name = "memory:utilization"
    public let probes: HealthProbes = [.ready]
    public let limitBytes: UInt64?

    public init(limitBytes: UInt64?) { self.limitBytes = limitBytes }

    /// The cgroup v2 limit of this process, when it has one.
    public static func cgroupLimit() -> UInt64? {
        guard let cg = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8),
            let line = cg.split(separator: "\n").first(where: { $0.hasPrefix("0::") })
        else { return nil }
        let path = "/sys/fs/cgroup" + line.dropFirst(3) + "/memory.max"
        guard let v = try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) else { return nil }
        return UInt64(v)
    }

    public func check() async -> HealthCheckResult {
        let rss = (try? ProcessCollector.read().residentBytes) ?? 0
        guard let limit = limitBytes, limit > 0 else {
            return HealthCheckResult(.pass, observedValue: rss, observedUnit: "bytes")
        }
        let ratio = rss / Double(limit)
        let status: HealthStatus = ratio > 0.95 ? .fail : (ratio > 0.8 ? .warn : .pass)
        return HealthCheckResult(
            status, observedValue: ratio * 100, observedUnit: "percent",
            output: status == .pass ? nil : "resident memory \(Int(rss)) of \(limit) bytes")
    }
}

/// The memory budget as a gauge, so the memory alert compares resident memory with it.
public struct MemoryLimitCollector: MetricsCollector {
    public let name = "memory_limit"
    public let limitBytes: UInt64?
    public init(limitBytes: UInt64?) { self.limitBytes = limitBytes }
    public func collect() async throws -> [MetricFamilySnapshot] {
        [.single(MetricCatalogue.memoryLimit, MetricCatalogue.entry(MetricCatalogue.memoryLimit)!.help, .gauge, Double(limitBytes ?? 0))]
    }
}
