/// Settings of the in-process rule evaluator (from `ABM_ALERT_*` and `ABM_ALERTMANAGER_*`).
public struct AlertingConfiguration: Sendable {
    /// Rule files; empty means the rules built into the binary (a copy of alerts/abm.rules.yml).
    public var ruleFiles: [String] = []
    /// Scrape interval and the interval of groups that set none, in milliseconds.
    public var evaluationInterval: Int64 = 15_000
    /// Alertmanager base URL (`http://host:port[/prefix]`); nil disables delivery.
    public var alertmanagerURL: String?
    /// How often a still-firing alert is sent again, in milliseconds.
    public var resendDelay: Int64 = 60_000
    public var alertmanagerTimeout: Double = 5
    public var alertmanagerAttempts = 3
    /// The target labels the service gives its own series, as a Prometheus scrape would.
    public var job = "abm"
    public var instance = "127.0.0.1:8000"
    /// Where an alert's generatorURL points.
    public var externalURL = "http://127.0.0.1:8000"

    public init() {}
}
