import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The standard `process_*` metrics, read from /proc at scrape time.
public struct ProcessCollector: MetricsCollector {
    public let name = "process"
    public init() {}

    public struct Reading: Sendable, Equatable {
        public var cpuSeconds: Double
        public var residentBytes: Double
        public var virtualBytes: Double
        public var startTime: Double
        public var threads: Double
        public var openFDs: Double
        public var maxFDs: Double
    }

    /// Parses /proc/self/stat: fields after the parenthesised command name.
    public static func read() throws -> Reading {
        let stat = try String(contentsOfFile: "/proc/self/stat", encoding: .utf8)
        guard let close = stat.lastIndex(of: ")") else { throw CocoaError(.fileReadCorruptFile) }
        let fields = stat[stat.index(after: close)...].split(separator: " ").map(String.init)
        // fields[0] is the state (field 3 of proc(5)); field n is fields[n - 3].
        func f(_ n: Int) -> Double { Double(fields[n - 3]) ?? 0 }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let page = Double(sysconf(Int32(_SC_PAGESIZE)))
        // Boot time from the clocks rather than /proc/stat, which a hardened unit (ProcSubset=pid) hides.
        var real = timespec()
        var boot = timespec()
        clock_gettime(CLOCK_REALTIME, &real)
        clock_gettime(CLOCK_BOOTTIME, &boot)
        let bootTime = (Double(real.tv_sec) + Double(real.tv_nsec) / 1e9) - (Double(boot.tv_sec) + Double(boot.tv_nsec) / 1e9)
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        return Reading(
            cpuSeconds: (f(14) + f(15)) / ticks, residentBytes: f(24) * page, virtualBytes: f(23),
            startTime: bootTime + f(22) / ticks, threads: f(20), openFDs: Double(fds), maxFDs: Double(limit.rlim_cur))
    }

    public func collect() async throws -> [MetricFamilySnapshot] {
        let r = try Self.read()
        func family(_ name: String, _ value: Double) -> MetricFamilySnapshot {
            let e = MetricCatalogue.entry(name)!
            return .single(name, e.help, e.kind, value)
        }
        return [
            family(MetricCatalogue.processCPUSeconds, r.cpuSeconds), family(MetricCatalogue.processResidentMemory, r.residentBytes),
            family(MetricCatalogue.processVirtualMemory, r.virtualBytes), family(MetricCatalogue.processOpenFDs, r.openFDs),
            family(MetricCatalogue.processMaxFDs, r.maxFDs), family(MetricCatalogue.processStartTime, r.startTime),
            family(MetricCatalogue.processThreads, r.threads),
        ]
    }
}

/// `abm_build_info{version, swift_version} 1`.
public struct BuildInfoCollector: MetricsCollector {
    public let name = "build_info"
    public let version: String
    public let swiftVersion: String

    public init(version: String, swiftVersion: String) {
        self.version = version
        self.swiftVersion = swiftVersion
    }

    public func collect() async throws -> [MetricFamilySnapshot] {
        let e = MetricCatalogue.entry(MetricCatalogue.buildInfo)!
        return [MetricFamilySnapshot(name: e.name, help: e.help, kind: .gauge, samples: [.init(labels: [("version", version), ("swift_version", swiftVersion)], value: 1)])]
    }
}

/// Lines by level, dropped lines, rotations and write errors of the logging system.
public struct LoggingCollector: MetricsCollector {
    public let name = "logging"
    public let statistics: LogStatistics
    public init(statistics: LogStatistics) { self.statistics = statistics }

    public func collect() async throws -> [MetricFamilySnapshot] {
        let lines = statistics.linesByLevel
        let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
        let counts = Dictionary(lines.map { ($0.key.rawValue, $0.value) }, uniquingKeysWith: +)
        func e(_ n: String) -> MetricCatalogue.Entry { MetricCatalogue.entry(n)! }
        return [
            MetricFamilySnapshot(
                name: MetricCatalogue.logLines, help: e(MetricCatalogue.logLines).help, kind: .counter,
                samples: levels.map { .init(labels: [("level", $0)], value: Double(counts[$0] ?? 0)) }),
            .single(MetricCatalogue.logDropped, e(MetricCatalogue.logDropped).help, .counter, Double(statistics.dropped)),
            .single(MetricCatalogue.logRotations, e(MetricCatalogue.logRotations).help, .counter, Double(statistics.rotations)),
            .single(MetricCatalogue.logWriteErrors, e(MetricCatalogue.logWriteErrors).help, .counter, Double(statistics.writeErrors)),
        ]
    }
}
