/// The health probes and the scrape route: what load balancers, supervisors and Prometheus call many times a
/// minute. They get no server span (a trace of a probe says nothing, and at probe rates the spans would cost
/// more than the answer) and their access-log line is at debug unless they fail with a 5xx.
enum ProbePaths {
    static let paths: Set<String> = [
        "/health", "/health/live", "/health/ready", "/health/startup", "/api/v1/health", "/api/v1/health/live",
        "/api/v1/health/ready", "/metrics",
    ]

    static func contains(_ path: String) -> Bool { paths.contains(path) }
}
