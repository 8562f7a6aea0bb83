import Foundation

/// The JSON shapes of Prometheus's `/api/v1/alerts` and `/api/v1/rules`, so tools that read a Prometheus
/// server read the service too.
public enum PrometheusAPI {
    public struct AlertsResponse: Encodable, Sendable {
        public var status = "success"
        public var data: AlertsData
    }
    public struct AlertsData: Encodable, Sendable {
        public var alerts: [APIAlert]
    }
    public struct APIAlert: Encodable, Sendable {
        public var labels: [String: String]
        public var annotations: [String: String]
        public var state: String
        public var activeAt: String
        public var value: String
    }

    public struct RulesResponse: Encodable, Sendable {
        public var status = "success"
        public var data: RulesData
    }
    public struct RulesData: Encodable, Sendable {
        public var groups: [APIGroup]
    }
    public struct APIGroup: Encodable, Sendable {
        public var name: String
        public var file: String
        public var rules: [APIRule]
        public var interval: Double
        public var limit = 0
        public var evaluationTime: Double
        public var lastEvaluation: String
    }
    public struct APIRule: Encodable, Sendable {
        public var type: String
        public var name: String
        public var query: String
        public var duration: Double?
        public var keepFiringFor: Double?
        public var labels: [String: String]
        public var annotations: [String: String]?
        public var alerts: [APIAlert]?
        public var state: String?
        public var health: String
        public var lastError: String?
        public var evaluationTime: Double
        public var lastEvaluation: String
    }

    static func time(_ ms: Int64) -> String {
        guard ms > 0 else { return "0001-01-01T00:00:00Z" }
        return AlertmanagerClient.timestamp(ms)
    }

    static func alert(_ a: Alert) -> APIAlert {
        APIAlert(labels: a.labels.dictionary, annotations: a.annotations, state: a.state.rawValue, activeAt: time(a.activeAt), value: GoFormat.exponential(a.value))
    }

    /// Label or annotation templates as the rule file wrote them.
    static func sources(_ templates: [(String, Template)]) -> [String: String] {
        Dictionary(templates.map { ($0.0, $0.1.source) }, uniquingKeysWith: { first, _ in first })
    }

    static func rules(_ groups: [RuleGroup], type: String?) -> RulesResponse {
        var out: [APIGroup] = []
        for g in groups {
            var rules: [APIRule] = []
            for r in g.rules {
                let d = r.definition
                let isAlert = d.kind == .alerting
                if let type, (type == "alert") != isAlert { continue }
                let alerts = r.active.values.filter { $0.state != .inactive }.map(alert).sorted { $0.activeAt < $1.activeAt }
                let ruleState = r.active.values.contains { $0.state == .firing } ? "firing" : (r.active.values.contains { $0.state == .pending } ? "pending" : "inactive")
                rules.append(
                    APIRule(
                        type: isAlert ? "alerting" : "recording", name: d.name, query: d.exprText,
                        duration: isAlert ? Double(d.holdDuration) / 1000 : nil, keepFiringFor: isAlert ? Double(d.keepFiringFor) / 1000 : nil,
                        labels: sources(d.labels), annotations: isAlert ? sources(d.annotations) : nil,
                        alerts: isAlert ? alerts : nil, state: isAlert ? ruleState : nil, health: r.health,
                        lastError: r.lastError.isEmpty ? nil : r.lastError, evaluationTime: r.evaluationSeconds, lastEvaluation: time(r.lastEvaluation)))
            }
            if type != nil && rules.isEmpty { continue }
            out.append(
                APIGroup(
                    name: g.definition.name, file: g.definition.file, rules: rules, interval: Double(g.interval) / 1000,
                    evaluationTime: g.evaluationSeconds, lastEvaluation: time(g.lastEvaluation)))
        }
        return RulesResponse(data: RulesData(groups: out))
    }
}
