import Foundation
import Prometheus
import Testing

@testable import Telemetry

@Suite struct MetricsExporterTests {
    struct Throwing: MetricsCollector {
        let name = "throwing"
        struct Boom: Error {}
        func collect() async throws -> [MetricFamilySnapshot] { throw Boom() }
    }

    struct Hanging: MetricsCollector {
        let name = "hanging"
        func collect() async throws -> [MetricFamilySnapshot] {
            // Ignores cancellation on purpose: a broken plugin.
            while true { usleep(50_000) }
        }
    }

    struct Fixed: MetricsCollector {
        let name = "fixed"
        func collect() async throws -> [MetricFamilySnapshot] {
            [MetricFamilySnapshot(name: "abm_jobs", help: "Jobs.", kind: .gauge, samples: [.init(labels: [("state", "a\"b")], value: 2.5)])]
        }
    }

    @Test func brokenCollectorsAreSkippedAndCounted() async throws {
        let exporter = MetricsExporter(
            registry: PrometheusCollectorRegistry(), collectors: [Fixed(), Throwing(), Hanging()], collectorTimeout: .milliseconds(200))
        let clock = ContinuousClock()
        let start = clock.now
        let first = await exporter.scrape()
        #expect(clock.now - start < .seconds(2))
        #expect(first.contains(#"abm_jobs{state="a\"b"} 2.5"#))
        let second = await exporter.scrape()
        #expect(second.contains(#"abm_metrics_collector_failures_total{collector="throwing",reason="error"} 2"#))
        // The hung collector is not started again while it still runs: one more timeout, no second task.
        #expect(second.contains(#"abm_metrics_collector_failures_total{collector="hanging",reason="timeout"} 2"#))
        #expect(second.contains("# HELP abm_metrics_scrape_duration_seconds"))
    }

    @Test func registryFamiliesGetHelpFromTheCatalogue() async {
        let registry = PrometheusCollectorRegistry()
        registry.makeCounter(name: "abm_log_rotations_total", labels: []).increment()
        let text = await MetricsExporter(registry: registry).scrape()
        #expect(text.contains("# HELP abm_log_rotations_total Log file rotations.\n# TYPE abm_log_rotations_total counter"))
    }

    @Test func processMetricsComeFromProc() throws {
        let r = try ProcessCollector.read()
        #expect(r.residentBytes > 1_000_000)
        #expect(r.virtualBytes >= r.residentBytes)
        #expect(r.threads >= 1)
        #expect(r.openFDs >= 3 && r.maxFDs >= r.openFDs)
        #expect(abs(r.startTime - Date().timeIntervalSince1970) < 3600 * 24)
    }

    @Test func catalogueNamesFollowPrometheusConventions() {
        var seen = Set<String>()
        for e in MetricCatalogue.entries {
            #expect(seen.insert(e.name).inserted, "duplicate \(e.name)")
            #expect(e.name.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "_" })
            #expect((e.kind == .counter) == e.name.hasSuffix("_total"), "\(e.name)")
            #expect(!e.help.isEmpty && e.help.hasSuffix("."))
        }
    }

    /// The catalogue is pinned: renaming or retyping a metric breaks dashboards and alert rules, so it must
    /// be a deliberate change to this list too.
    @Test func catalogueIsPinned() throws {
        let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("metrics.golden")
        let expected = try String(contentsOf: golden, encoding: .utf8).split(separator: "\n").map(String.init)
        let actual = MetricCatalogue.entries.map { "\($0.name) \($0.kind.rawValue) \($0.labels.joined(separator: ","))" }
        #expect(actual == expected)
    }

    @Test func expositionEscapesAndFormats() {
        var out = ""
        ExpositionWriter.write([.single("x_total", "Help \\ with\nnewline.", .counter, 3)], into: &out)
        #expect(out == "# HELP x_total Help \\\\ with\\nnewline.\n# TYPE x_total counter\nx_total 3\n")
        #expect(ExpositionWriter.format(.infinity) == "+Inf")
        #expect(ExpositionWriter.format(0.25) == "0.25")
    }
}

@Suite struct HealthRegistryTests {
    @Test func worstCheckWinsAndSlowChecksFail() async {
        let registry = HealthRegistry(version: "t", timeout: .milliseconds(100))
        registry.register(ClosureHealthCheck("a:ok", probes: [.live]) { HealthCheckResult(.pass) })
        registry.register(ClosureHealthCheck("b:warn", probes: [.ready]) { HealthCheckResult(.warn, observedValue: 85, observedUnit: "percent") })
        registry.register(ClosureHealthCheck("c:slow", probes: [.startup]) {
            try? await Task.sleep(for: .seconds(5))
            return HealthCheckResult(.pass)
        })
        #expect(await registry.report(.live).status == .pass)
        #expect(await registry.report(.ready).status == .warn)
        let startup = await registry.report(.startup)
        #expect(startup.status == .fail)
        #expect(startup.entries.first?.result.output?.contains("timed out") == true)
        let full = await registry.report()
        #expect(full.status == .fail)
        let json = full.json(verbose: true)
        let checks = json["checks"] as? [String: Any]
        #expect(checks?.keys.sorted() == ["a:ok", "b:warn", "c:slow"])
        let warn = (checks?["b:warn"] as? [[String: Any]])?.first
        #expect(warn?["observedValue"] as? Double == 85)
        #expect((full.json(verbose: false)["checks"] as? [String: [[String: Any]]])?["b:warn"]?.first?["observedValue"] == nil)
    }

    @Test func diskAndMemoryChecks() async {
        #expect(await DiskSpaceCheck(path: NSTemporaryDirectory() + "/missing/dir", minimumFreeBytes: 1).check().status == .pass)
        #expect(await DiskSpaceCheck(path: "/", minimumFreeBytes: .max / 4).check().status == .fail)
        #expect(await MemoryCheck(limitBytes: nil).check().status == .pass)
        #expect(await MemoryCheck(limitBytes: 1024).check().status == .fail)
        #expect(await MemoryCheck(limitBytes: 1 << 40).check().status == .pass)
    }

    @Test func eventLoopMonitorSeesAStalledLoop() async throws {
        let group = NIOPosixGroup.make()
        let monitor = EventLoopMonitor(group: group, interval: .milliseconds(10))
        monitor.probe()
        try await Task.sleep(for: .milliseconds(50))
        #expect(monitor.lag < .milliseconds(40))
        let before = monitor.lastProgress
        // Block the loop for 300 ms.
        group.next().execute { usleep(300_000) }
        try await Task.sleep(for: .milliseconds(20))
        monitor.probe()
        try await Task.sleep(for: .milliseconds(150))
        #expect(monitor.lag >= .milliseconds(100))
        let check = await EventLoopLagCheck(monitor: monitor, warnAfter: .milliseconds(50), failAfter: .seconds(10)).check()
        #expect(check.status == .warn)
        try await Task.sleep(for: .milliseconds(300))
        #expect(monitor.lastProgress > before)
        try await group.shutdownGracefully()
    }

    @Test func drainStateNotifiesOnce() {
        let state = DrainState()
        let count = Counter()
        state.onDrain { count.bump() }
        #expect(!state.isDraining)
        state.begin()
        state.begin()
        #expect(state.isDraining)
        #expect(count.value == 1)
    }

    final class Counter: @unchecked Sendable {
        private(set) var value = 0
        private let lock = NSLock()
        func bump() { lock.lock(); value += 1; lock.unlock() }
    }
}

import NIOPosix

enum NIOPosixGroup {
    static func make() -> MultiThreadedEventLoopGroup { MultiThreadedEventLoopGroup(numberOfThreads: 1) }
}
