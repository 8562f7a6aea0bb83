/// Every metric the service exposes, in one place: name, type, labels and help. Collectors and recorders
/// use these names; `/metrics` takes its HELP lines from here; a golden test pins the list and
/// `promtool check metrics` runs on a real scrape.
public enum MetricCatalogue {
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let kind: MetricFamilySnapshot.Kind
        public let labels: [String]
        public let help: String
    }

    static func e(_ name: String, _ kind: MetricFamilySnapshot.Kind, _ labels: [String], _ help: String) -> Entry {
        Entry(name: name, kind: kind, labels: labels, help: help)
    }

    // Process (from /proc, the standard client-library names).
    public static let processCPUSeconds = "process_cpu_seconds_total"
    public static let processResidentMemory = "process_resident_memory_bytes"
    public static let processVirtualMemory = "process_virtual_memory_bytes"
    public static let processOpenFDs = "process_open_fds"
    public static let processMaxFDs = "process_max_fds"
    public static let processStartTime = "process_start_time_seconds"
    public static let processThreads = "process_threads"
    // HTTP.
    public static let httpRequests = "abm_http_requests_total"
    public static let httpDuration = "abm_http_request_duration_seconds"
    public static let httpInFlight = "abm_http_requests_in_flight"
    public static let httpRequestSize = "abm_http_request_size_bytes"
    public static let httpResponseSize = "abm_http_response_size_bytes"
    public static let httpConnections = "abm_http_connections"
    public static let httpConnectionsClosed = "abm_http_connections_closed_total"
    // Jobs.
    public static let jobs = "abm_jobs"
    public static let jobQueueCapacity = "abm_job_queue_capacity"
    public static let jobConcurrencyLimit = "abm_job_concurrency_limit"
    public static let jobsSubmitted = "abm_jobs_submitted_total"
    public static let jobsFinished = "abm_jobs_finished_total"
    public static let jobDuration = "abm_job_duration_seconds"
    public static let jobCacheRequests = "abm_job_cache_requests_total"
    public static let jobStoreErrors = "abm_job_store_errors_total"
    public static let jobSubmissionsRefused = "abm_job_submissions_refused_total"
    public static let jobLeasesLost = "abm_job_leases_lost_total"
    public static let jobFencedWrites = "abm_job_fenced_writes_total"
    public static let jobStateWriteFailures = "abm_job_state_write_failures_total"
    public static let jobRescues = "abm_job_rescues_total"
    public static let jobOldestQueuedAge = "abm_job_oldest_queued_age_seconds"
    public static let jobNotifyReconnects = "abm_job_notify_reconnects_total"
    public static let jobNotifyErrors = "abm_job_notify_errors_total"
    public static let jobNotifyConnected = "abm_job_notify_connected"
    // Engine.
    public static let simulations = "abm_simulations_total"
    public static let agentMonths = "abm_simulation_agent_months_total"
    public static let simulationDuration = "abm_simulation_duration_seconds"
    // Logging.
    public static let logLines = "abm_log_lines_total"
    public static let logDropped = "abm_log_dropped_lines_total"
    public static let logRotations = "abm_log_rotations_total"
    public static let logWriteErrors = "abm_log_write_errors_total"
    // Errors, build, scrape, health.
    public static let errors = "abm_errors_total"
    public static let buildInfo = "abm_build_info"
    public static let scrapeDuration = "abm_metrics_scrape_duration_seconds"
    public static let collectorFailures = "abm_metrics_collector_failures_total"
    public static let eventLoopLag = "abm_event_loop_lag_seconds"
    public static let watchdogSkipped = "abm_watchdog_pings_skipped_total"
    public static let memoryLimit = "abm_memory_limit_bytes"
    // Alerting (the in-process rule evaluator).
    public static let alerts = "abm_alerts"
    public static let alertRules = "abm_alert_rules"
    public static let alertEvaluations = "abm_alert_rule_group_evaluations_total"
    public static let alertEvaluationFailures = "abm_alert_rule_evaluation_failures_total"
    public static let alertEvaluationDuration = "abm_alert_rule_group_duration_seconds"
    public static let alertReloads = "abm_alert_rule_reloads_total"
    public static let alertStoreSeries = "abm_alert_store_series"
    public static let alertStoreSamples = "abm_alert_store_samples"
    public static let alertStoreBytes = "abm_alert_store_bytes"
    public static let alertmanagerSent = "abm_alertmanager_alerts_sent_total"
    public static let alertmanagerFailures = "abm_alertmanager_notifications_failed_total"
    // Tracing (the span pipeline's own health).
    public static let tracingEnabled = "abm_tracing_enabled"
    public static let tracingSpansExported = "abm_tracing_spans_exported_total"
    public static let tracingSpansDropped = "abm_tracing_spans_dropped_total"
    public static let tracingExportFailures = "abm_tracing_export_failures_total"
    public static let crashReports = "abm_crash_reports_recent"
    public static let errorFingerprintsNew = "abm_error_fingerprints_new_total"

    public static let entries: [Entry] = [
        e(processCPUSeconds, .counter, [], "Total user and system CPU time spent in seconds."),
        e(processResidentMemory, .gauge, [], "Resident memory size in bytes."),
        e(processVirtualMemory, .gauge, [], "Virtual memory size in bytes."),
        e(processOpenFDs, .gauge, [], "Number of open file descriptors."),
        e(processMaxFDs, .gauge, [], "Maximum number of open file descriptors."),
        e(processStartTime, .gauge, [], "Start time of the process since unix epoch in seconds."),
        e(processThreads, .gauge, [], "Number of OS threads in the process."),
        e(httpRequests, .counter, ["method", "route", "status"], "HTTP requests answered, by method, route template and status code."),
        e(httpDuration, .histogram, ["method", "route"], "HTTP request duration in seconds, by method and route template."),
        e(httpInFlight, .gauge, [], "HTTP requests being handled now."),
        e(httpRequestSize, .histogram, ["method", "route"], "HTTP request body size in bytes (declared length)."),
        e(httpResponseSize, .histogram, ["method", "route"], "HTTP response body size in bytes (when known in advance)."),
        e(httpConnections, .gauge, [], "Client connections open now (at most ABM_MAX_CONNECTIONS)."),
        e(httpConnectionsClosed, .counter, ["reason"], "Connections the service closed for a timeout: idle, head, body or write."),
        e(jobs, .gauge, ["state"], "Jobs in the store, by state (pending is the queue depth)."),
        e(jobQueueCapacity, .gauge, [], "Most jobs allowed to wait in the queue (ABM_MAX_QUEUED_JOBS)."),
        e(jobConcurrencyLimit, .gauge, [], "Most jobs allowed to run at once (ABM_MAX_CONCURRENT_JOBS)."),
        e(jobsSubmitted, .counter, ["kind"], "Jobs accepted, by kind (abm, monte_carlo, cached)."),
        e(jobsFinished, .counter, ["kind", "status"], "Jobs that ended, by kind and final status (completed, failed, cancelled)."),
        e(jobDuration, .histogram, ["kind"], "Run time of finished jobs in seconds, by kind."),
        e(jobCacheRequests, .counter, ["result"], "Result-cache lookups for seeded submissions, by result (hit, miss)."),
        e(jobStoreErrors, .counter, [], "Job store operations that failed."),
        e(jobSubmissionsRefused, .counter, ["reason"], "Job submissions refused, by reason (queue_full, client_quota, disk)."),
        e(jobLeasesLost, .counter, [], "Runs stopped because their lease renewal found the lease gone."),
        e(jobFencedWrites, .counter, [], "Final writes of a run refused by the store because its lease was taken over."),
        e(jobStateWriteFailures, .counter, ["operation"], "Final writes of a run that failed after retries (complete, fail, cancel, release); recovery reconciles them."),
        e(jobRescues, .counter, [], "Interrupted runs requeued by recovery or rescue."),
        e(jobOldestQueuedAge, .gauge, [], "Seconds the oldest pending job has waited, cluster-wide (0 when none is pending)."),
        e(jobNotifyReconnects, .counter, [], "Times the job notification session (PostgreSQL LISTEN) was reopened after it was lost."),
        e(jobNotifyErrors, .counter, [], "Job notifications that could not be sent (the polls find what they would have told)."),
        e(jobNotifyConnected, .gauge, [], "1 while the job notification session (PostgreSQL LISTEN) is up; absent for an embedded store."),
        e(simulations, .counter, ["engine"], "Simulations run, by engine (abm, monte_carlo, v1)."),
        e(agentMonths, .counter, ["engine"], "Agent-months simulated, by engine."),
        e(simulationDuration, .histogram, ["engine"], "Simulation run time in seconds, by engine."),
        e(logLines, .counter, ["level"], "Log lines emitted, by level."),
        e(logDropped, .counter, [], "Log lines that could not be written (disk or file failure)."),
        e(logRotations, .counter, [], "Log file rotations."),
        e(logWriteErrors, .counter, [], "Failed writes to a log destination."),
        e(errors, .counter, ["source", "type", "fingerprint"], "Error events (every 5xx response and every failed job), by source, error type and fingerprint (the first ABM_ERROR_FINGERPRINT_LABELS fingerprints; later ones as other)."),
        e(errorFingerprintsNew, .counter, [], "Error fingerprints never seen before by this data directory (the error_new_fingerprint log lines name them)."),
        e(crashReports, .gauge, [], "Crash reports of earlier runs that this start found (each logged once); back to 0 once the process has run an hour."),
        e(buildInfo, .gauge, ["version", "swift_version"], "Build information; the value is always 1."),
        e(scrapeDuration, .gauge, [], "Duration of the previous /metrics scrape in seconds."),
        e(collectorFailures, .counter, ["collector", "reason"], "Metrics collectors skipped during a scrape, by collector and reason (error, timeout)."),
        e(eventLoopLag, .gauge, [], "Largest recent delay, in seconds, before an event loop ran a scheduled probe."),
        e(watchdogSkipped, .counter, [], "systemd watchdog pings withheld because liveness failed or the service made no progress."),
        e(memoryLimit, .gauge, [], "Memory budget in bytes (ABM_MEMORY_LIMIT_BYTES or the cgroup limit; 0 when there is none)."),
        e(alerts, .gauge, ["alertname", "severity", "state"], "Alerts of the in-process rule evaluator, by name, severity and state (pending, firing)."),
        e(alertRules, .gauge, ["type"], "Rules loaded by the in-process evaluator, by type (alerting, recording)."),
        e(alertEvaluations, .counter, ["group"], "Rule group evaluations, by group."),
        e(alertEvaluationFailures, .counter, ["group"], "Rule evaluations that failed (the rule's lastError says why), by group."),
        e(alertEvaluationDuration, .gauge, ["group"], "Duration of the last evaluation of a rule group in seconds."),
        e(alertReloads, .counter, ["result"], "Rule file reloads, by result (success, failure; a failure keeps the old rules)."),
        e(alertStoreSeries, .gauge, [], "Series held by the alert evaluator's sample store."),
        e(alertStoreSamples, .gauge, [], "Samples held by the alert evaluator's sample store."),
        e(alertStoreBytes, .gauge, [], "Approximate memory of the alert evaluator's sample store in bytes."),
        e(alertmanagerSent, .counter, [], "Alerts delivered to Alertmanager (firing and resolved)."),
        e(alertmanagerFailures, .counter, [], "Alertmanager notifications that failed after every retry (their alerts are lost until the next resend)."),
        e(tracingEnabled, .gauge, [], "1 when spans are exported (an OTLP endpoint is set), 0 when tracing is off."),
        e(tracingSpansExported, .counter, [], "Spans the OTLP exporter delivered."),
        e(tracingSpansDropped, .counter, ["reason"], "Spans lost before delivery, by reason (queue_full: the batch queue was full; export_failed: their batch could not be delivered)."),
        e(tracingExportFailures, .counter, [], "Span batches whose export failed (collector down, refused or too slow)."),
    ]

    public static func entry(_ name: String) -> Entry? { entries.first { $0.name == name } }

    /// Histogram buckets for the HTTP latency: they include the 0.25 s latency objective of the alert rules.
    public static let httpDurationBuckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    public static let jobDurationBuckets: [Double] = [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]
    public static let sizeBuckets: [Double] = [64, 256, 1024, 4096, 16384, 65536, 262_144, 1_048_576, 4_194_304, 16_777_216]
}
