import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Telemetry

/// The rule evaluator inside the service: at every tick it scrapes the service's own `/metrics` text (the
/// exposition Prometheus reads), appends the samples to the store with the target labels and an `up`
/// series, evaluates every rule group whose interval has come, logs each alert state change, and hands
/// firing and resolved alerts to Alertmanager when one is configured.
public final class AlertingService: Service, Sendable {
    public let configuration: AlertingConfiguration
    let scrape: @Sendable () async -> String
    let now: @Sendable () -> Int64
    let logger: Logger
    let alertmanager: AlertmanagerClient?
    private let state: Mutex<State>
    private let delivery: AsyncStream<[AlertmanagerClient.Payload]>
    private let deliveryInput: AsyncStream<[AlertmanagerClient.Payload]>.Continuation

    struct State: @unchecked Sendable {  // SampleStore and RuleGroup are only touched under the mutex
        var groups: [RuleGroup]
        var nextEvaluation: [String: Int64] = [:]
        let store: SampleStore
        var evaluations: [String: Int] = [:]
        var failures: [String: Int] = [:]
        var reloads: [String: Int] = [:]
        var lastScrapeError: String?
    }

    /// Loads the configured rule files (or the built-in rules). Throws with every problem found.
    public static func loadRules(_ files: [String]) throws(RuleFile.Failure) -> [RuleGroupDefinition] {
        if files.isEmpty { return try RuleFile.parse(EmbeddedRules.abm, path: "built-in:alerts/abm.rules.yml").groups }
        var groups: [RuleGroupDefinition] = []
        var problems: [String] = []
        for f in files {
            do { groups += try RuleFile.load(path: f).groups } catch { problems += error.messages }
        }
        if !problems.isEmpty { throw RuleFile.Failure(messages: problems) }
        return groups
    }

    public init(
        configuration: AlertingConfiguration, groups: [RuleGroupDefinition], scrape: @escaping @Sendable () async -> String, logger: Logger,
        now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    ) {
        self.configuration = configuration
        self.scrape = scrape
        self.now = now
        self.logger = logger
        self.alertmanager = configuration.alertmanagerURL.flatMap { HTTPPoster.Target(url: $0) }.map {
            AlertmanagerClient(target: $0, timeout: configuration.alertmanagerTimeout, attempts: configuration.alertmanagerAttempts, logger: logger)
        }
        let runtime = groups.map { RuleGroup($0, defaultInterval: configuration.evaluationInterval) }
        let store = SampleStore(retention: Self.retention(for: runtime, interval: configuration.evaluationInterval))
        self.state = Mutex(State(groups: runtime, store: store))
        (delivery, deliveryInput) = AsyncStream.makeStream(of: [AlertmanagerClient.Payload].self, bufferingPolicy: .bufferingNewest(64))
    }

    /// How long each metric name must be kept: the longest range (plus offset) any rule reads it with, plus
    /// the 5-minute lookback and two intervals. Names no rule reads are not stored at all.
    public static func retention(for groups: [RuleGroup], interval: Int64) -> SampleStore.Retention {
        var byName: [String: Int64] = [:]
        var anyName: Int64?
        let slack: Int64 = 300_000 + 2 * max(interval, groups.map(\.interval).max() ?? interval)
        for g in groups {
            for r in g.rules {
                for (s, range) in r.definition.expr.selectors {
                    let need = range + max(0, s.offset) + slack
                    if let n = s.name { byName[n] = max(byName[n] ?? 0, need) } else { anyName = max(anyName ?? 0, need) }
                }
            }
        }
        let names = byName
        let fallback = anyName
        return { name in
            let specific = name.flatMap { names[$0] }
            switch (specific, fallback) {
            case (nil, nil): return nil
            case (let a?, nil): return a
            case (nil, let b?): return b
            case (let a?, let b?): return max(a, b)
            }
        }
    }

    // MARK: Reload

    /// Re-reads the rule files. An invalid set keeps the current rules and logs why; rules that survive
    /// keep their alert state.
    @discardableResult
    public func reload() -> Bool {
        let definitions: [RuleGroupDefinition]
        do { definitions = try Self.loadRules(configuration.ruleFiles) } catch {
            state.withLock { $0.reloads["failure", default: 0] += 1 }
            logger.error(
                "reload: invalid alert rules kept the current rules",
                metadata: ["event": "reload", "error": "\(error.messages.joined(separator: "; "))"])
            return false
        }
        let t = now()
        state.withLock { s in
            let fresh = definitions.map { RuleGroup($0, defaultInterval: configuration.evaluationInterval) }
            for g in fresh {
                if let old = s.groups.first(where: { $0.key == g.key }) { g.adoptState(from: old) }
            }
            // Series written by rules that no longer exist go stale now.
            for old in s.groups {
                for i in old.rules.indices where !fresh.contains(where: { $0.key == old.key && i < $0.rules.count }) {
                    s.store.retire(source: "\(old.key);\(i)", at: t)
                }
            }
            s.groups = fresh
            s.store.retention = Self.retention(for: fresh, interval: configuration.evaluationInterval)
            s.reloads["success", default: 0] += 1
        }
        logger.info(
            "reload: alert rules applied",
            metadata: ["event": "reload", "rules": "\(definitions.reduce(0) { $0 + $1.rules.count })", "groups": "\(definitions.count)"])
        return true
    }

    // MARK: Evaluation

    /// One tick at time `t`: scrape, evaluate the groups that are due, log and deliver. Returns the state
    /// changes (for tests).
    @discardableResult
    public func tick(at t: Int64) async -> [AlertTransition] {
        let clock = ContinuousClock()
        let started = clock.now
        let text = await scrape()
        let scrapeSeconds = RuleGroup.seconds(clock.now - started)
        let target: [(String, String)] = [("job", configuration.job), ("instance", configuration.instance)]
        var batch: [(Labels, Double)]
        var scrapeError: String?
        do { batch = try ExpositionParser.parse(text, extraLabels: target) } catch {
            batch = []
            scrapeError = "\(error)"
        }
        let scraped = Double(batch.count)
        func targetSeries(_ name: String, _ v: Double) -> (Labels, Double) { (Labels([(Labels.metricName, name)] + target), v) }
        batch.append(targetSeries("up", scrapeError == nil ? 1 : 0))
        batch.append(targetSeries("scrape_duration_seconds", scrapeSeconds))
        batch.append(targetSeries("scrape_samples_scraped", scraped))

        let (transitions, outgoing) = state.withLock { s -> ([AlertTransition], [AlertmanagerClient.Payload]) in
            if s.lastScrapeError != scrapeError, let scrapeError {
                logger.error("alert evaluator could not parse the service's own metrics", metadata: ["error": "\(scrapeError)"])
            }
            s.lastScrapeError = scrapeError
            s.store.appendBatch(source: "scrape", batch, at: t)
            var transitions: [AlertTransition] = []
            var outgoing: [AlertmanagerClient.Payload] = []
            for g in s.groups {
                let due = s.nextEvaluation[g.key] ?? t
                guard t >= due else { continue }
                transitions += g.evaluate(at: t, store: s.store)
                s.nextEvaluation[g.key] = due + g.interval * max(1, (t - due) / g.interval + 1)
                s.evaluations[g.definition.name, default: 0] += 1
                s.failures[g.definition.name, default: 0] += g.rules.filter { $0.health == "err" }.count
                if alertmanager != nil {
                    let validUntil = t + 4 * max(configuration.resendDelay, g.interval)
                    for (a, _) in g.alertsToSend(at: t, resendDelay: configuration.resendDelay) {
                        outgoing.append(AlertmanagerClient.payload(a, validUntil: validUntil, generatorURL: configuration.externalURL + "/api/v1/rules"))
                    }
                }
            }
            s.store.expire(now: t)
            return (transitions, outgoing)
        }
        for tr in transitions { log(tr) }
        if !outgoing.isEmpty { deliveryInput.yield(outgoing) }
        return transitions
    }

    private func log(_ tr: AlertTransition) {
        let to = tr.to == .inactive ? (tr.from == .firing ? "resolved" : "inactive") : tr.to.rawValue
        var metadata: Logger.Metadata = [
            "event": "alert_state_change", "alertname": "\(tr.rule)", "alert_state": "\(to)", "previous_state": "\(tr.from.rawValue)",
            "value": "\(GoFormat.value(tr.alert.value))", "alert_labels": "\(tr.alert.labels.withoutName)",
        ]
        if let s = tr.severity { metadata["severity"] = "\(s)" }
        if let r = tr.runbook { metadata["runbook"] = "\(r)" }
        if let summary = tr.alert.annotations["summary"] { metadata["summary"] = "\(summary)" }
        let level: Logger.Level = to == "firing" ? (tr.severity == "critical" ? .error : .warning) : .info
        logger.log(level: level, "alert \(tr.rule) \(to)", metadata: metadata)
    }

    /// Evaluates until shutdown. A graceful shutdown cancels everything at once: the sleep between ticks
    /// and any Alertmanager delivery in flight (its retries too), so the service never waits on either.
    public func run() async throws {
        try? await cancelWhenGracefulShutdown { await self.evaluateAndDeliver() }
    }

    private func evaluateAndDeliver() async {
        await withTaskGroup(of: Void.self) { group in
            if let alertmanager {
                let stream = delivery
                group.addTask {
                    for await batch in stream { await alertmanager.send(batch) }
                }
            }
            group.addTask {
                await self.loop()
                self.deliveryInput.finish()
            }
        }
    }

    var tickInterval: Int64 {
        state.withLock { s in min(configuration.evaluationInterval, s.groups.map(\.interval).min() ?? configuration.evaluationInterval) }
    }

    private func loop() async {
        while !Task.isCancelled {
            await tick(at: now())
            let step = tickInterval
            try? await Task.sleep(for: .milliseconds(step - now() % step))
        }
    }

    // MARK: Views

    public var activeAlerts: [(Alert, RuleDefinition, String)] {
        state.withLock { s in s.groups.flatMap { g in g.activeAlerts.map { ($0.0, $0.1, g.definition.name) } } }
    }

    /// Names of firing alerts with severity critical, for the health report.
    public var firingCritical: [String] { firingNames { $0 == "critical" } }

    /// Names of firing alerts except the severity-none heartbeat, for the systemd status line.
    public var firing: [String] { firingNames { $0 != "none" } }

    private func firingNames(severity keep: (String?) -> Bool) -> [String] {
        Array(Set(activeAlerts.filter { $0.0.state == .firing && keep($0.1.severity) }.map(\.1.name))).sorted()
    }

    /// `/api/v1/alerts` in Prometheus's shape.
    public func alertsDocument() -> PrometheusAPI.AlertsResponse {
        let alerts = activeAlerts.map { PrometheusAPI.alert($0.0) }.sorted { $0.labels["alertname"] ?? "" < $1.labels["alertname"] ?? "" }
        return PrometheusAPI.AlertsResponse(data: .init(alerts: alerts))
    }

    /// `/api/v1/rules` in Prometheus's shape; `type` filters to "alert" or "record".
    public func rulesDocument(type: String? = nil) -> PrometheusAPI.RulesResponse {
        state.withLock { s in PrometheusAPI.rules(s.groups, type: type) }
    }

    public var collector: AlertingCollector { AlertingCollector(service: self) }

    struct Counters {
        var evaluations: [String: Int]
        var failures: [String: Int]
        var durations: [String: Double]
        var reloads: [String: Int]
        var alerts: [[String]: Int]
        var rules: (alerting: Int, recording: Int)
        var series: Int
        var samples: Int
        var bytes: Int
    }

    func counters() -> Counters {
        state.withLock { s in
            var alerts: [[String]: Int] = [:]
            for g in s.groups {
                for (a, d) in g.activeAlerts { alerts[[d.name, d.severity ?? "", a.state.rawValue], default: 0] += 1 }
            }
            let all = s.groups.flatMap(\.rules)
            return Counters(
                evaluations: s.evaluations, failures: s.failures,
                durations: Dictionary(s.groups.map { ($0.definition.name, $0.evaluationSeconds) }, uniquingKeysWith: { a, _ in a }),
                reloads: s.reloads, alerts: alerts,
                rules: (all.filter { $0.definition.kind == .alerting }.count, all.filter { $0.definition.kind == .recording }.count),
                series: s.store.seriesCount, samples: s.store.sampleCount, bytes: s.store.approximateBytes)
        }
    }
}

/// The evaluator's own metrics (see docs/metrics.md).
public struct AlertingCollector: MetricsCollector {
    let service: AlertingService
    public var name: String { "alerting" }

    public func collect() async throws -> [MetricFamilySnapshot] {
        let c = service.counters()
        func family(_ name: String, _ samples: [MetricFamilySnapshot.Sample]) -> MetricFamilySnapshot {
            let e = MetricCatalogue.entry(name)!
            return MetricFamilySnapshot(name: e.name, help: e.help, kind: e.kind, samples: samples)
        }
        func byGroup(_ d: [String: some BinaryInteger]) -> [MetricFamilySnapshot.Sample] {
            d.sorted { $0.key < $1.key }.map { .init(labels: [("group", $0.key)], value: Double($0.value)) }
        }
        var out = [
            family(MetricCatalogue.alertRules, [.init(labels: [("type", "alerting")], value: Double(c.rules.alerting)), .init(labels: [("type", "recording")], value: Double(c.rules.recording))]),
            family(MetricCatalogue.alertEvaluations, byGroup(c.evaluations)),
            family(MetricCatalogue.alertEvaluationFailures, byGroup(c.failures)),
            family(MetricCatalogue.alertEvaluationDuration, c.durations.sorted { $0.key < $1.key }.map { .init(labels: [("group", $0.key)], value: $0.value) }),
            family(MetricCatalogue.alertReloads, ["success", "failure"].map { .init(labels: [("result", $0)], value: Double(c.reloads[$0] ?? 0)) }),
            family(MetricCatalogue.alertStoreSeries, [.init(value: Double(c.series))]),
            family(MetricCatalogue.alertStoreSamples, [.init(value: Double(c.samples))]),
            family(MetricCatalogue.alertStoreBytes, [.init(value: Double(c.bytes))]),
            family(
                MetricCatalogue.alerts,
                c.alerts.sorted { $0.key.joined() < $1.key.joined() }.map {
                    .init(labels: [("alertname", $0.key[0]), ("severity", $0.key[1]), ("state", $0.key[2])], value: Double($0.value))
                }),
        ]
        if let am = service.alertmanager {
            out.append(family(MetricCatalogue.alertmanagerSent, [.init(value: Double(am.sent))]))
            out.append(family(MetricCatalogue.alertmanagerFailures, [.init(value: Double(am.failed))]))
        }
        return out.filter { !$0.samples.isEmpty }
    }
}
