import Synchronization
import Dispatch
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
            // Never answers and ignores cancellation: a broken plugin waiting on something that never comes.
            while true { try? await Task.sleep(for: .seconds(1)) }
        }
    }

    struct Fixed: MetricsCollector {
        let name = "fixed"
        func collect() async throws -> [MetricFamilySnapshot] {
            [MetricFamilySnapshot(name: "abm_jobs", help: "Jobs.", kind: .gauge, samples: [.init(labels: [("state", "a\"b")], value: 2.5)])]
        }
    }

    @Test func brokenCollectorsAreSkippedAndCounted() async throws {
        // 10 s: a trivial collector must never miss it, even on a 2-core machine running the whole suite at once
        // (at 5 s it once did, starved by the other tests, not by the exporter).
        let exporter = MetricsExporter(
            registry: PrometheusCollectorRegistry(), collectors: [Fixed(), Throwing(), Hanging()], collectorTimeout: .seconds(10))
        let clock = ContinuousClock()
        let start = clock.now
        let first = await exporter.scrape()
        #expect(clock.now - start < .seconds(25))
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

    /// A check that ignores cancellation (a hung disk) cannot hold the report past its deadline, and is not
    /// started again on every probe while it hangs.
    @Test func aStuckCheckDoesNotHoldTheReport() async {
        let finished = Atomic(false)
        let starts = Atomic(0)
        let registry = HealthRegistry(version: "t", timeout: .milliseconds(100))
        registry.register(ClosureHealthCheck("d:stuck", probes: [.ready]) {
            starts.add(1, ordering: .relaxed)
            // Not cancellable: returns after 2 s whatever happens to its task.
            await withCheckedContinuation { (k: CheckedContinuation<Void, Never>) in
                DispatchQueue.global().asyncAfter(deadline: .now() + 2) { k.resume() }
            }
            finished.store(true, ordering: .relaxed)
            return HealthCheckResult(.pass)
        })
        let first = await registry.report(.ready)
        let doneAfterFirst = finished.load(ordering: .relaxed)
        #expect(!doneAfterFirst, "the report waited for the stuck check")
        #expect(first.status == .fail && first.entries.first?.result.output?.contains("timed out") == true)
        let second = await registry.report(.ready)
        #expect(second.entries.first?.result.output?.contains("still running") == true)
        let started = starts.load(ordering: .relaxed)
        let doneAfterSecond = finished.load(ordering: .relaxed)
        #expect(started == 1)
        #expect(!doneAfterSecond)
    }

    /// Concurrent probes of a healthy check all run it: only a stuck one is failed without running.
    @Test func concurrentProbesOfAHealthyCheckAllPass() async {
        let registry = HealthRegistry(version: "t", timeout: .seconds(2))
        registry.register(ClosureHealthCheck("e:slowish", probes: [.ready]) {
            try? await Task.sleep(for: .milliseconds(50))
            return HealthCheckResult(.pass)
        })
        let statuses = await withTaskGroup(of: HealthStatus.self) { group in
            for _ in 0..<8 { group.addTask { await registry.report(.ready).status } }
            var out: [HealthStatus] = []
            for await s in group { out.append(s) }
            return out
        }
        #expect(statuses == Array(repeating: .pass, count: 8))
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
        #expect(await waitUntil { monitor.pendingProbes == 0 && monitor.lag < .milliseconds(50) })
        let before = monitor.lastProgress
        // Hold the loop until the test lets it go, then probe it.
        let gate = DispatchSemaphore(value: 0)
        group.next().execute { _ = gate.wait(timeout: .now() + 10) }
        monitor.probe()
        let clock = ContinuousClock()
        let start = clock.now
        while clock.now - start < .milliseconds(150) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(monitor.lag >= .milliseconds(100))
        let check = await EventLoopLagCheck(monitor: monitor, warnAfter: .milliseconds(50), failAfter: .seconds(10)).check()
        #expect(check.status == .warn)
        #expect(monitor.lastProgress == before)
        gate.signal()
        #expect(await waitUntil { monitor.lastProgress > before })
        try await group.shutdownGracefully()
    }

    func waitUntil(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<500 {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition()
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

@Suite struct MetricsDocumentationTests {
    @Test func everyMetricIsDocumented() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let doc = try String(contentsOf: root.appendingPathComponent("docs/metrics.md"), encoding: .utf8)
        for e in MetricCatalogue.entries {
            #expect(doc.contains("| `\(e.name)` | \(e.kind.rawValue) |"), "docs/metrics.md lacks \(e.name)")
        }
    }
}

@Suite struct DashboardTests {
    /// Every metric the dashboard queries exists (or is a Prometheus-side series such as ALERTS).
    @Test func dashboardUsesOnlyKnownMetrics() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let data = try Data(contentsOf: root.appendingPathComponent("ops/grafana/abm-service.json"))
        let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        let exprs = panels.flatMap { ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String } }
        #expect(exprs.count >= 9)
        let known = Set(MetricCatalogue.entries.map(\.name)).union(["ALERTS", "up"])
        let pattern = try Regex(#"[a-zA-Z_:][a-zA-Z0-9_:]*(?=\{|\[| |\)|$)"#)
        let functions: Set<String> = ["sum", "rate", "increase", "max", "by", "clamp_min", "histogram_quantile", "le", "instance", "state", "status", "engine", "route", "alertname", "severity", "alertstate", "source", "type", "fingerprint", "reason"]
        for expr in exprs {
            for m in expr.matches(of: pattern) {
                var name = String(expr[m.range])
                if functions.contains(name) { continue }
                for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) && !known.contains(name) { name.removeLast(suffix.count) }
                #expect(known.contains(name), "\(name) in \(expr)")
            }
        }
    }
}
