/// The state of an alert instance, as in Prometheus.
public enum AlertState: String, Sendable { case inactive, pending, firing }

public struct Alert: Sendable {
    public var labels: Labels
    public var annotations: [String: String]
    public var state: AlertState
    public var activeAt: Int64
    public var firedAt: Int64?
    public var resolvedAt: Int64?
    public var lastSentAt: Int64?
    public var keepFiringSince: Int64?
    public var value: Double
}

/// What changed in one evaluation, for the log and for delivery.
public struct AlertTransition: Sendable {
    public var rule: String
    public var alert: Alert
    public var from: AlertState
    public var to: AlertState
    public var severity: String?
    public var runbook: String?
}

/// A rule at runtime: its definition and, for an alerting rule, its active alerts.
public struct RuleState: Sendable {
    public let definition: RuleDefinition
    public var active: [Labels: Alert] = [:]
    public var health = "unknown"
    public var lastError = ""
    public var lastEvaluation: Int64 = 0
    public var evaluationSeconds = 0.0
}

/// One rule group at runtime. `evaluate(at:)` runs every rule in order against the store, as Prometheus's
/// group evaluation does: recording rules write their series (later rules see them), alerting rules move
/// their alerts between inactive, pending and firing (`for`, `keep_firing_for`), and the `ALERTS` and
/// `ALERTS_FOR_STATE` series are written. Time comes from the caller, so tests drive it.
public final class RuleGroup: @unchecked Sendable {  // owned and serialised by its evaluator
    public let definition: RuleGroupDefinition
    public let interval: Int64
    public private(set) var rules: [RuleState]
    public private(set) var lastEvaluation: Int64 = 0
    public private(set) var evaluationSeconds = 0.0
    public var externalLabels: [String: String] = [:]
    /// Resolved alerts stay this long so receivers hear that they resolved (Prometheus: 15 minutes).
    static let resolvedRetention: Int64 = 15 * 60_000

    public init(_ definition: RuleGroupDefinition, defaultInterval: Int64) {
        self.definition = definition
        self.interval = definition.interval ?? defaultInterval
        self.rules = definition.rules.map { RuleState(definition: $0) }
    }

    var key: String { "\(definition.file);\(definition.name)" }

    /// Carries the alert state of rules that survive a reload (same name, expression and labels).
    public func adoptState(from old: RuleGroup) {
        for i in rules.indices {
            let d = rules[i].definition
            if let match = old.rules.first(where: {
                $0.definition.kind == d.kind && $0.definition.name == d.name && $0.definition.exprText == d.exprText
            }) {
                rules[i].active = match.active
                rules[i].health = match.health
            }
        }
    }

    @discardableResult
    public func evaluate(at t: Int64, store: SampleStore) -> [AlertTransition] {
        let clock = ContinuousClock()
        let groupStart = clock.now
        var transitions: [AlertTransition] = []
        let evaluator = Evaluator(source: store)
        for i in rules.indices {
            let start = clock.now
            let d = rules[i].definition
            let source = "\(key);\(i)"
            do {
                let result = try evaluator.evaluate(d.expr, at: t).asVector
                switch d.kind {
                case .recording:
                    var out: [(Labels, Double)] = []
                    var seen = Set<Labels>()
                    for s in result {
                        var l = s.labels
                        l.set(Labels.metricName, d.name)
                        for (n, tmpl) in d.labels { l.set(n, tmpl.source) }
                        guard seen.insert(l).inserted else {
                            throw EvaluationError("vector contains metrics with the same labelset after applying rule labels")
                        }
                        out.append((l, s.value))
                    }
                    store.appendBatch(source: source, out, at: t)
                case .alerting:
                    let (series, changes) = try alerting(i, result, at: t)
                    transitions += changes
                    store.appendBatch(source: source, series, at: t)
                }
                rules[i].health = "ok"
                rules[i].lastError = ""
            } catch {
                rules[i].health = "err"
                rules[i].lastError = "\(error)"
            }
            rules[i].lastEvaluation = t
            rules[i].evaluationSeconds = Self.seconds(clock.now - start)
        }
        lastEvaluation = t
        evaluationSeconds = Self.seconds(clock.now - groupStart)
        return transitions
    }

    static func seconds(_ d: Swift.Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    private func alerting(_ i: Int, _ result: [VectorSample], at t: Int64) throws -> ([(Labels, Double)], [AlertTransition]) {
        let d = rules[i].definition
        var current: [Labels: Alert] = [:]
        for s in result {
            let context = Template.Context(labels: s.labels.dictionary, externalLabels: externalLabels, value: s.value)
            var l = s.labels.withoutName
            for (n, tmpl) in d.labels { l.set(n, try tmpl.render(context)) }
            l.set("alertname", d.name)
            var annotations: [String: String] = [:]
            for (n, tmpl) in d.annotations { annotations[n] = try tmpl.render(context) }
            guard current[l] == nil else {
                throw EvaluationError("vector contains metrics with the same labelset after applying alert labels")
            }
            current[l] = Alert(labels: l, annotations: annotations, state: .pending, activeAt: t, value: s.value)
        }
        var active = rules[i].active
        var transitions: [AlertTransition] = []
        func note(_ a: Alert, _ from: AlertState) {
            transitions.append(AlertTransition(rule: d.name, alert: a, from: from, to: a.state, severity: d.severity, runbook: d.runbook))
        }
        for (l, a) in current {
            if var existing = active[l], existing.state != .inactive {
                existing.value = a.value
                existing.annotations = a.annotations
                active[l] = existing
            } else {
                active[l] = a
                note(a, .inactive)
            }
        }
        var series: [(Labels, Double)] = []
        for (l, var a) in active {
            if current[l] == nil {
                var keepFiring = false
                if a.state == .firing && d.keepFiringFor > 0 {
                    if a.keepFiringSince == nil { a.keepFiringSince = t }
                    if t - a.keepFiringSince! < d.keepFiringFor { keepFiring = true }
                }
                if a.state == .pending || (a.resolvedAt.map { t - $0 > Self.resolvedRetention } ?? false) {
                    active[l] = nil
                }
                if a.state != .inactive && !keepFiring {
                    let from = a.state
                    a.state = .inactive
                    a.resolvedAt = t
                    note(a, from)
                }
                if active[l] != nil { active[l] = a }
                if !keepFiring { continue }
            } else {
                a.keepFiringSince = nil
            }
            if a.state == .pending && t - a.activeAt >= d.holdDuration {
                a.state = .firing
                a.firedAt = t
                note(a, .pending)
            }
            active[l] = a
            var alerts = a.labels
            alerts.set(Labels.metricName, "ALERTS")
            alerts.set("alertstate", a.state.rawValue)
            series.append((alerts, 1))
            var forState = a.labels
            forState.set(Labels.metricName, "ALERTS_FOR_STATE")
            series.append((forState, Double(a.activeAt / 1000)))
        }
        rules[i].active = active
        return (series, transitions)
    }

    /// Alerts that Alertmanager should hear about now: firing ones not sent for `resendDelay`, and
    /// resolved ones not yet sent as resolved. Marks them sent.
    public func alertsToSend(at t: Int64, resendDelay: Int64) -> [(Alert, RuleDefinition)] {
        var out: [(Alert, RuleDefinition)] = []
        for i in rules.indices where rules[i].definition.kind == .alerting {
            for (l, var a) in rules[i].active {
                guard a.state != .pending else { continue }
                if let resolved = a.resolvedAt, a.state == .inactive {
                    guard (a.lastSentAt ?? .min) < resolved else { continue }
                } else if let sent = a.lastSentAt, t - sent < resendDelay {
                    continue
                }
                a.lastSentAt = t
                rules[i].active[l] = a
                out.append((a, rules[i].definition))
            }
        }
        return out
    }

    /// The pending and firing alerts of every alerting rule.
    public var activeAlerts: [(Alert, RuleDefinition)] {
        rules.filter { $0.definition.kind == .alerting }.flatMap { r in
            r.active.values.filter { $0.state != .inactive }.map { ($0, r.definition) }
        }
    }
}
