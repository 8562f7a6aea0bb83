import Testing

@testable import Alerting

@Suite struct RuleGroupTests {
    func group(_ yaml: String) throws -> RuleGroup {
        RuleGroup(try RuleFile.parse(yaml, path: "t.yml").groups[0], defaultInterval: 60_000)
    }

    @Test func pendingThenFiringThenResolved() throws {
        let g = try group(
            """
            groups:
              - name: g
                rules:
                  - alert: High
                    expr: x > 10
                    for: 2m
                    labels: {severity: critical, value: "{{ $value }}"}
                    annotations: {summary: "{{ $labels.a }} is {{ $value }}"}
            """)
        let store = SampleStore()
        let x = Labels(["__name__": "x", "a": "1"])
        var changes: [[String]] = []
        for (minute, v) in [5.0, 20, 20, 20, 5, 5].enumerated() {
            let t = Int64(minute) * 60_000
            store.append(x, t: t, v: v)
            changes.append(g.evaluate(at: t, store: store).map { "\($0.from.rawValue)->\($0.to.rawValue)" })
        }
        #expect(changes == [[], ["inactive->pending"], [], ["pending->firing"], ["firing->inactive"], []])
        // The labels were templated when it became active; the annotation follows the value.
        let alerts = try Evaluator(source: store).evaluate(try Parser.parse("ALERTS"), at: 180_000).asVector
        #expect(alerts.map(\.labels) == [Labels(["__name__": "ALERTS", "alertname": "High", "alertstate": "firing", "a": "1", "severity": "critical", "value": "20"])])
        let forState = try Evaluator(source: store).evaluate(try Parser.parse("ALERTS_FOR_STATE"), at: 180_000).asVector
        #expect(forState.map(\.value) == [60])
        #expect(try Evaluator(source: store).evaluate(try Parser.parse("ALERTS"), at: 240_000).asVector.isEmpty, "stale once resolved")
    }

    @Test func pendingAlertThatClearsNeverFires() throws {
        let g = try group("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: x > 1\n        for: 5m\n")
        let store = SampleStore()
        for (i, v) in [2.0, 2, 0, 2].enumerated() {
            store.append(Labels(["__name__": "x"]), t: Int64(i) * 60_000, v: v)
            g.evaluate(at: Int64(i) * 60_000, store: store)
        }
        #expect(g.activeAlerts.map(\.0.activeAt) == [180_000], "the pending clock restarted")
    }

    @Test func keepFiringForHoldsAResolvedCondition() throws {
        let g = try group("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: x > 1\n        keep_firing_for: 2m\n")
        let store = SampleStore()
        var states: [String] = []
        for (i, v) in [2.0, 0, 0, 0, 0].enumerated() {
            store.append(Labels(["__name__": "x"]), t: Int64(i) * 60_000, v: v)
            g.evaluate(at: Int64(i) * 60_000, store: store)
            states.append(g.activeAlerts.first?.0.state.rawValue ?? "none")
        }
        #expect(states == ["firing", "firing", "firing", "none", "none"])
    }

    @Test func resendAndResolvedDelivery() throws {
        let g = try group("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: x > 1\n")
        let store = SampleStore()
        func step(_ t: Int64, _ v: Double) -> [AlertState] {
            store.append(Labels(["__name__": "x"]), t: t, v: v)
            g.evaluate(at: t, store: store)
            return g.alertsToSend(at: t, resendDelay: 120_000).map(\.0.state)
        }
        #expect(step(0, 2) == [.firing])
        #expect(step(60_000, 2) == [], "not again before the resend delay")
        #expect(step(120_000, 2) == [.firing], "re-sent while firing")
        #expect(step(180_000, 0) == [.inactive], "resolved, sent once")
        #expect(step(240_000, 0) == [])
    }

    @Test func recordingRulesFeedLaterRulesAndReportErrors() throws {
        let g = try group(
            """
            groups:
              - name: g
                rules:
                  - record: job:x:sum
                    expr: sum by (job) (x)
                    labels: {team: core}
                  - alert: Sum
                    expr: job:x:sum > 2
                  - record: broken
                    expr: x + on (job) x
            """)
        let store = SampleStore()
        store.append(Labels(["__name__": "x", "job": "a", "i": "1"]), t: 0, v: 2)
        store.append(Labels(["__name__": "x", "job": "a", "i": "2"]), t: 0, v: 2)
        let changes = g.evaluate(at: 0, store: store)
        // Without `for`, the alert goes pending and fires in the same evaluation.
        #expect(changes.map(\.to) == [.pending, .firing])
        #expect(Set(changes.map(\.alert.labels)) == [Labels(["alertname": "Sum", "job": "a", "team": "core"])])
        #expect(g.rules.map(\.health) == ["ok", "ok", "err"])
        #expect(g.rules[2].lastError.contains("many-to-many"))
    }
}
