import Dispatch
import Foundation
import Prometheus
import Synchronization

/// Renders `/metrics`: the swift-metrics registry (HELP lines added from the catalogue) followed by every
/// collector's samples and the exporter's own metrics.
///
/// Collectors run concurrently; each gets `collectorTimeout`. One that throws or does not answer in time is
/// skipped for that scrape and counted in `abm_metrics_collector_failures_total`. A collector still running
/// from an earlier scrape is not started again, so a hung collector costs one task, not one per scrape.
public final class MetricsExporter: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let collectorTimeout: Duration
    private let collectors: Mutex<[any MetricsCollector]>
    private let failures = Mutex<[String: Int]>([:])
    private let inFlight = Mutex<Set<String>>([])
    private let lastScrapeSeconds = Mutex<Double>(0)

    public init(registry: PrometheusCollectorRegistry, collectors: [any MetricsCollector] = [], collectorTimeout: Duration = .seconds(2)) {
        self.registry = registry
        self.collectors = Mutex(collectors)
        self.collectorTimeout = collectorTimeout
    }

    /// Adds a collector (at the composition root).
    public func register(_ c: any MetricsCollector) { collectors.withLock { $0.append(c) } }

    public func scrape() async -> String {
        let clock = ContinuousClock()
        let start = clock.now
        var bytes: [UInt8] = []
        registry.emit(into: &bytes)
        var out = Self.addingHelp(to: String(decoding: bytes, as: UTF8.self))
        let list = collectors.withLock { $0 }
        let results = await withTaskGroup(of: (Int, [MetricFamilySnapshot]?).self) { group in
            for (i, c) in list.enumerated() {
                group.addTask { (i, await self.run(c)) }
            }
            var r = [[MetricFamilySnapshot]?](repeating: nil, count: list.count)
            for await (i, families) in group { r[i] = families }
            return r
        }
        for families in results.compactMap({ $0 }) { ExpositionWriter.write(families, into: &out) }
        ExpositionWriter.write(ownFamilies(), into: &out)
        let elapsed = clock.now - start
        lastScrapeSeconds.withLock { $0 = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18 }
        return out
    }

    private func ownFamilies() -> [MetricFamilySnapshot] {
        let f = failures.withLock { $0 }
        let failureEntry = MetricCatalogue.entry(MetricCatalogue.collectorFailures)!
        var samples: [MetricFamilySnapshot.Sample] = []
        for (key, count) in f.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: "|", maxSplits: 1).map(String.init)
            samples.append(.init(labels: [("collector", parts[0]), ("reason", parts[1])], value: Double(count)))
        }
        var families = [
            MetricFamilySnapshot.single(
                MetricCatalogue.scrapeDuration, MetricCatalogue.entry(MetricCatalogue.scrapeDuration)!.help, .gauge,
                lastScrapeSeconds.withLock { $0 })
        ]
        if !samples.isEmpty {
            families.append(MetricFamilySnapshot(name: failureEntry.name, help: failureEntry.help, kind: .counter, samples: samples))
        }
        return families
    }

    private func fail(_ c: String, _ reason: String) { failures.withLock { $0["\(c)|\(reason)", default: 0] += 1 } }

    private func run(_ c: any MetricsCollector) async -> [MetricFamilySnapshot]? {
        let name = c.name
        let started = inFlight.withLock { $0.insert(name).inserted }
        guard started else {
            fail(name, "timeout")
            return nil
        }
        let outcome: Result<[MetricFamilySnapshot], any Error>? = await withCheckedContinuation { k in
            let once = Atomic(false)
            // A collector that ignores cancellation cannot be awaited safely, so it runs in its own task and
            // the scrape waits for it only until the deadline.
            Task {
                let r: Result<[MetricFamilySnapshot], any Error>
                do { r = .success(try await c.collect()) } catch { r = .failure(error) }
                self.inFlight.withLock { _ = $0.remove(name) }
                if once.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged { k.resume(returning: r) }
            }
            let c = collectorTimeout.components
            let nanos = Int(c.seconds) * 1_000_000_000 + Int(c.attoseconds / 1_000_000_000)
            DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(nanos)) {
                if once.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged { k.resume(returning: nil) }
            }
        }
        switch outcome {
        case .success(let families)?: return families
        case .failure?:
            fail(name, "error")
            return nil
        case nil:
            fail(name, "timeout")
            return nil
        }
    }

    /// swift-metrics carries no help text: add a `# HELP` line from the catalogue before every `# TYPE`
    /// line that has none.
    static func addingHelp(to text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count + 2048)
        var previous = Substring("")
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("# TYPE ") {
                let name = line.dropFirst(7).split(separator: " ").first.map(String.init) ?? ""
                if !previous.hasPrefix("# HELP \(name) ") {
                    let help = MetricCatalogue.entry(name)?.help ?? name.replacingOccurrences(of: "_", with: " ")
                    out += "# HELP \(name) \(ExpositionWriter.escapeHelp(help))\n"
                }
            }
            out += line
            out += "\n"
            previous = line
        }
        return out
    }
}
