import Alerting
import Foundation
import Telemetry
import Jobs

/// Every setting of the service, read from the environment (and `abm serve` flags, which win), validated
/// at startup: each bad value gets one message naming the variable, the value and what is allowed.
public struct ServiceConfiguration: Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port = 8000
    public var dataDirectory = "./data"
    public var jobStore: JobStoreKind = .sqlite
    /// The shared store of `ABM_JOB_STORE=postgres` (`ABM_DATABASE_URL`, `ABM_DATABASE_PASSWORD_FILE`).
    public var databaseURL: String?
    public var databasePasswordFile: String?
    public var databaseMaxConnections = 10
    /// Names this instance in leases, logs and `pg_stat_activity` (`ABM_INSTANCE_ID`; default host:port).
    public var instanceID: String?
    /// LISTEN/NOTIFY between instances (`ABM_JOB_NOTIFY`), and the dispatcher's poll interval without it.
    public var jobNotify = true
    public var jobPollIntervalMs = 1000
    public var logLevel: LogLevelName = .info
    public var rateLimitEnabled = true
    public var defaultRateLimit = RateLimit(count: 100, window: .minute)
    public var corsOrigins: [String] = ServiceConfiguration.defaultCORSOrigins
    /// Reverse proxies whose `X-Forwarded-For`/`Forwarded` name the client (`ABM_TRUSTED_PROXIES`): addresses or CIDRs.
    public var trustedProxies: [String] = []
    public var maxRequestSize = 10_485_760
    public var maxConcurrentJobs = 5
    public var maxQueuedJobs = 100
    public var maxQueuedJobsPerClient = 25
    public var jobLeaseSeconds = 30
    public var jobTTLHours = 24
    public var cacheMaxEntries = 256
    public var cacheTTLMinutes = 120
    public var maxSyncSimulations = ProcessInfo.processInfo.activeProcessorCount
    /// The most work one simulation may ask for (`ABM_MAX_WORK_UNITS`): agent-months x trials, or v1
    /// bucket-months x trials.
    public var maxWorkUnits = 2_500_000_000
    /// The largest predicted result (`ABM_MAX_RESULT_BYTES`), in bytes of JSON.
    public var maxResultBytes = 134_217_728
    /// Connections (`ABM_MAX_CONNECTIONS`, `ABM_*_TIMEOUT_SECONDS`); see `ConnectionGuard`.
    public var maxConnections = 4096
    public var idleTimeoutSeconds = 60
    public var requestHeadTimeoutSeconds = 10
    public var bodyTimeoutSeconds = 30
    public var writeTimeoutSeconds = 30
    /// Host names a request's `Host` header may carry (`ABM_ALLOWED_HOSTS`); empty: any.
    public var allowedHosts: [String] = []
    public var shutdownTimeoutSeconds = 25
    public var shutdownDrainDelaySeconds = 1
    public var prometheusEnabled = true
    public var logTarget: LogTargetName = .auto
    public var logFile: String?
    public var logMaxBytes = 10 * 1024 * 1024
    public var logBackups = 5
    public var logRotateDaily = false
    public var logCompress = false
    public var logFileMode = 0o640
    /// 0: take the cgroup's memory.max when there is one.
    public var memoryLimitBytes: UInt64 = 0
    public var diskMinFreeBytes: UInt64 = 512 * 1024 * 1024
    /// The environment file that `systemctl reload` re-reads LOG_LEVEL from (`ABM_ENV_FILE`).
    public var envFile: String?
    /// The in-process rule evaluator (`ABM_ALERTING_ENABLED`, `ABM_ALERT_*`, `ABM_ALERTMANAGER_URL`).
    public var alertingEnabled = true
    public var alertRuleFiles: [String] = []
    public var alertEvaluationIntervalMs: Int64 = 15_000
    public var alertmanagerURL: String?
    public var alertResendIntervalMs: Int64 = 60_000
    /// Tracing, from the `OTEL_*` variables (off unless an exporter endpoint is set).
    public var tracing = TracingSettings(enabled: false, endpoint: nil, sampler: "parentbased_always_on")
    /// How many error fingerprints get a label of their own in `abm_errors_total` (`ABM_ERROR_FINGERPRINT_LABELS`).
    public var errorFingerprintLabels = 20
    /// Where the Swift runtime's backtracer writes crash reports (`ABM_CRASH_DIR`; default `ABM_DATA_DIR/crash`).
    public var crashDirectory: String?
    public var crashReportDirectory: String { crashDirectory ?? dataDirectory + "/crash" }

    public enum LogTargetName: String, Sendable, CaseIterable { case auto, stderr, file, journald }

    public enum JobStoreKind: String, Sendable, CaseIterable { case sqlite, memory, postgres }

    /// The original's level names (spec 1.1), mapped to swift-log levels.
    public enum LogLevelName: String, Sendable, CaseIterable {
        case debug = "DEBUG", info = "INFO", warning = "WARNING", error = "ERROR", critical = "CRITICAL"
    }

    public static let defaultCORSOrigins = [
        "http://localhost:5173", "http://localhost:5174", "http://localhost:3000", "http://127.0.0.1:5173",
        "http://127.0.0.1:5174", "http://127.0.0.1:3000",
    ]

    public init() {}

    /// The variables this service reads, in `.env.example` order. A test keeps this list, the code and
    /// `.env.example` in step.
    public static let variables = [
        "ABM_HOST", "ABM_PORT", "ABM_DATA_DIR", "ABM_JOB_STORE", "ABM_DATABASE_URL", "ABM_DATABASE_PASSWORD_FILE",
        "ABM_DATABASE_MAX_CONNECTIONS", "ABM_INSTANCE_ID", "ABM_JOB_NOTIFY", "ABM_JOB_POLL_INTERVAL_MS", "LOG_LEVEL", "RATE_LIMIT_ENABLED", "DEFAULT_RATE_LIMIT",
        "CORS_ORIGINS", "ABM_TRUSTED_PROXIES", "MAX_REQUEST_SIZE", "ABM_MAX_CONCURRENT_JOBS", "ABM_MAX_QUEUED_JOBS", "ABM_MAX_QUEUED_JOBS_PER_CLIENT",
        "ABM_JOB_LEASE_SECONDS", "ABM_JOB_TTL_HOURS",
        "ABM_CACHE_MAX_ENTRIES", "ABM_CACHE_TTL_MINUTES", "ABM_MAX_SYNC_SIMULATIONS", "ABM_MAX_WORK_UNITS", "ABM_MAX_RESULT_BYTES",
        "ABM_MAX_CONNECTIONS", "ABM_IDLE_TIMEOUT_SECONDS", "ABM_REQUEST_HEAD_TIMEOUT_SECONDS", "ABM_BODY_TIMEOUT_SECONDS",
        "ABM_WRITE_TIMEOUT_SECONDS", "ABM_ALLOWED_HOSTS", "ABM_SHUTDOWN_DRAIN_DELAY_SECONDS", "ABM_SHUTDOWN_TIMEOUT_SECONDS",
        "PROMETHEUS_ENABLED", "ABM_LOG_TARGET", "ABM_LOG_FILE", "ABM_LOG_MAX_BYTES", "ABM_LOG_BACKUPS", "ABM_LOG_ROTATE_DAILY",
        "ABM_LOG_COMPRESS", "ABM_LOG_FILE_MODE", "ABM_MEMORY_LIMIT_BYTES", "ABM_DISK_MIN_FREE_BYTES", "ABM_ENV_FILE",
        "ABM_ALERTING_ENABLED", "ABM_ALERT_RULES", "ABM_ALERT_EVAL_INTERVAL", "ABM_ALERTMANAGER_URL", "ABM_ALERT_RESEND_INTERVAL",
        "ABM_ERROR_FINGERPRINT_LABELS", "ABM_CRASH_DIR",
        // Read by debug builds only (Sources/abm/TestFaults.swift), never by the release binary.
        "ABM_TEST_FAULTS",
    ]

    /// The OpenTelemetry variables that shape tracing (read by `TracingSettings` and by swift-otel itself), in
    /// `.env.example` order.
    public static let openTelemetryVariables = [
        "OTEL_SDK_DISABLED", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
        "OTEL_EXPORTER_OTLP_COMPRESSION", "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "OTEL_EXPORTER_OTLP_TIMEOUT",
        "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_CERTIFICATE", "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
        "OTEL_EXPORTER_OTLP_CLIENT_KEY", "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
        "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", "OTEL_TRACES_EXPORTER", "OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG",
        "OTEL_BSP_SCHEDULE_DELAY", "OTEL_BSP_EXPORT_TIMEOUT", "OTEL_BSP_MAX_QUEUE_SIZE", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
        "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_PROPAGATORS", "OTEL_LOG_LEVEL",
    ]

    public struct Problem: Error, Equatable, Sendable, CustomStringConvertible {
        public var variable: String
        public var value: String
        public var allowed: String
        public var description: String { "\(variable)=\(value.debugDescription): \(allowed)" }
    }

    /// Reads `environment`; `overrides` (from command-line flags) replace single variables.
    public static func load(
        environment: [String: String], overrides: [String: String] = [:]
    ) -> Result<ServiceConfiguration, ConfigurationError> {
        let env = environment.merging(overrides) { _, flag in flag }
        var c = ServiceConfiguration()
        var problems: [Problem] = []

        func read(_ name: String, _ allowed: String, _ parse: (String) -> Bool) {
            guard let raw = env[name] else { return }
            if !parse(raw.trimmingCharacters(in: .whitespaces)) {
                problems.append(Problem(variable: name, value: raw, allowed: allowed))
            }
        }
        func int(_ name: String, _ range: ClosedRange<Int>, _ set: (Int) -> Void) {
            read(name, "an integer from \(range.lowerBound) to \(range.upperBound)") { s in
                guard let v = Int(s), range.contains(v) else { return false }
                set(v)
                return true
            }
        }
        func path(_ name: String, _ allowed: String, _ set: (String) -> Void) {
            read(name, allowed) { s in
                guard !s.isEmpty else { return false }
                set(s)
                return true
            }
        }
        func bytes(_ name: String, _ allowed: String, _ set: (UInt64) -> Void) {
            read(name, allowed) { s in
                guard let v = UInt64(s) else { return false }
                set(v)
                return true
            }
        }
        read("ABM_HOST", "an IP address or host name") { s in
            guard !s.isEmpty, !s.contains(" ") else { return false }
            c.host = s
            return true
        }
        int("ABM_PORT", 0...65535) { c.port = $0 }
        path("ABM_DATA_DIR", "a directory path") { c.dataDirectory = $0 }
        read("ABM_JOB_STORE", "one of sqlite, memory, postgres") { s in
            guard let k = JobStoreKind(rawValue: s.lowercased()) else { return false }
            c.jobStore = k
            return true
        }
        read("ABM_DATABASE_URL", "a URL such as postgres://abm@127.0.0.1:5432/abm (optionally ?sslmode=disable|prefer|require)") { s in
            guard PostgresSettings(url: s) != nil else { return false }
            c.databaseURL = s
            return true
        }
        read("ABM_DATABASE_PASSWORD_FILE", "a readable file holding the database password") { s in
            guard !s.isEmpty, FileManager.default.isReadableFile(atPath: s) else { return false }
            c.databasePasswordFile = s
            return true
        }
        int("ABM_DATABASE_MAX_CONNECTIONS", 2...1000) { c.databaseMaxConnections = $0 }
        read("ABM_INSTANCE_ID", "1 to 100 letters, digits and . _ : - (unique among the instances)") { s in
            let ok = (1...100).contains(s.count) && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || ".-_:".contains($0)) }
            if ok { c.instanceID = s }
            return ok
        }
        int("ABM_JOB_POLL_INTERVAL_MS", 10...60_000) { c.jobPollIntervalMs = $0 }
        read("LOG_LEVEL", "one of DEBUG, INFO, WARNING, ERROR, CRITICAL") { s in
            guard let l = LogLevelName(rawValue: s.uppercased()) else { return false }
            c.logLevel = l
            return true
        }
        func flag(_ name: String, _ set: (Bool) -> Void) {
            read(name, "true or false") { s in
                switch s.lowercased() {
                case "true", "1", "yes", "on": set(true)
                case "false", "0", "no", "off": set(false)
                default: return false
                }
                return true
            }
        }
        flag("ABM_JOB_NOTIFY") { c.jobNotify = $0 }
        flag("RATE_LIMIT_ENABLED") { c.rateLimitEnabled = $0 }
        flag("PROMETHEUS_ENABLED") { c.prometheusEnabled = $0 }
        flag("ABM_LOG_ROTATE_DAILY") { c.logRotateDaily = $0 }
        flag("ABM_LOG_COMPRESS") { c.logCompress = $0 }
        read("ABM_LOG_TARGET", "one of auto, stderr, file, journald") { s in
            guard let t = LogTargetName(rawValue: s.lowercased()) else { return false }
            c.logTarget = t
            return true
        }
        path("ABM_LOG_FILE", "a file path") { c.logFile = $0 }
        int("ABM_LOG_MAX_BYTES", 0...Int(Int32.max)) { c.logMaxBytes = $0 }
        int("ABM_LOG_BACKUPS", 0...1000) { c.logBackups = $0 }
        read("ABM_LOG_FILE_MODE", "an octal file mode from 0600 to 0666, such as 0640") { s in
            guard let m = Int(s, radix: 8), (0o600...0o666).contains(m) else { return false }
            c.logFileMode = m
            return true
        }
        bytes("ABM_MEMORY_LIMIT_BYTES", "a byte count (0 = the cgroup limit, if any)") { c.memoryLimitBytes = $0 }
        path("ABM_ENV_FILE", "a file path") { c.envFile = $0 }
        bytes("ABM_DISK_MIN_FREE_BYTES", "a byte count") { c.diskMinFreeBytes = $0 }
        read("DEFAULT_RATE_LIMIT", "<count>/<second|minute|hour|day>, for example 100/minute") { s in
            guard let r = RateLimit(parsing: s) else { return false }
            c.defaultRateLimit = r
            return true
        }
        read("CORS_ORIGINS", "a comma-separated list of origins such as http://localhost:3000") { s in
            let list = s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard list.allSatisfy({ $0 == "*" || $0.hasPrefix("http://") || $0.hasPrefix("https://") }) else { return false }
            c.corsOrigins = list
            return true
        }
        read("ABM_TRUSTED_PROXIES", "a comma-separated list of IP addresses or CIDR ranges such as 127.0.0.1,10.0.0.0/8") { s in
            guard TrustedProxies.parse(s) != nil else { return false }
            c.trustedProxies = s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            return true
        }
        int("MAX_REQUEST_SIZE", 1024...1_073_741_824) { c.maxRequestSize = $0 }
        int("ABM_MAX_CONCURRENT_JOBS", 1...256) { c.maxConcurrentJobs = $0 }
        int("ABM_MAX_QUEUED_JOBS", 0...1_000_000) { c.maxQueuedJobs = $0 }
        int("ABM_MAX_QUEUED_JOBS_PER_CLIENT", 0...1_000_000) { c.maxQueuedJobsPerClient = $0 }
        int("ABM_JOB_LEASE_SECONDS", 1...3600) { c.jobLeaseSeconds = $0 }
        int("ABM_JOB_TTL_HOURS", 1...87_600) { c.jobTTLHours = $0 }
        int("ABM_CACHE_MAX_ENTRIES", 0...1_000_000) { c.cacheMaxEntries = $0 }
        int("ABM_CACHE_TTL_MINUTES", 0...525_600) { c.cacheTTLMinutes = $0 }
        int("ABM_MAX_SYNC_SIMULATIONS", 1...256) { c.maxSyncSimulations = $0 }
        int("ABM_MAX_WORK_UNITS", 1_000_000...1_000_000_000_000) { c.maxWorkUnits = $0 }
        int("ABM_MAX_RESULT_BYTES", 1_048_576...17_179_869_184) { c.maxResultBytes = $0 }
        int("ABM_MAX_CONNECTIONS", 16...1_000_000) { c.maxConnections = $0 }
        int("ABM_IDLE_TIMEOUT_SECONDS", 1...86_400) { c.idleTimeoutSeconds = $0 }
        int("ABM_REQUEST_HEAD_TIMEOUT_SECONDS", 1...3600) { c.requestHeadTimeoutSeconds = $0 }
        int("ABM_BODY_TIMEOUT_SECONDS", 1...3600) { c.bodyTimeoutSeconds = $0 }
        int("ABM_WRITE_TIMEOUT_SECONDS", 1...3600) { c.writeTimeoutSeconds = $0 }
        read("ABM_ALLOWED_HOSTS", "a comma-separated list of host names or addresses, such as abm.example.com,127.0.0.1") { s in
            let list = s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
            guard !list.isEmpty, list.allSatisfy({ !$0.contains(" ") && !$0.contains("/") }) else { return false }
            c.allowedHosts = list
            return true
        }
        int("ABM_SHUTDOWN_TIMEOUT_SECONDS", 1...3600) { c.shutdownTimeoutSeconds = $0 }
        int("ABM_SHUTDOWN_DRAIN_DELAY_SECONDS", 0...60) { c.shutdownDrainDelaySeconds = $0 }
        flag("ABM_ALERTING_ENABLED") { c.alertingEnabled = $0 }
        read("ABM_ALERT_RULES", "a comma-separated list of rule file paths") { s in
            let list = s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !list.isEmpty else { return false }
            c.alertRuleFiles = list
            return true
        }
        func duration(_ name: String, _ range: ClosedRange<Int64>, _ allowed: String, _ set: (Int64) -> Void) {
            read(name, allowed) { s in
                guard let d = PromDuration.parse(s), range.contains(d) else { return false }
                set(d)
                return true
            }
        }
        duration("ABM_ALERT_EVAL_INTERVAL", 1000...3_600_000, "a duration from 1s to 1h, such as 15s") { c.alertEvaluationIntervalMs = $0 }
        duration("ABM_ALERT_RESEND_INTERVAL", 1000...86_400_000, "a duration from 1s to 24h, such as 1m") { c.alertResendIntervalMs = $0 }
        read("ABM_ALERTMANAGER_URL", "an http:// URL such as http://127.0.0.1:9093") { s in
            guard HTTPPoster.Target(url: s) != nil else { return false }
            c.alertmanagerURL = s
            return true
        }
        int("ABM_ERROR_FINGERPRINT_LABELS", 1...1000) { c.errorFingerprintLabels = $0 }
        path("ABM_CRASH_DIR", "a directory path") { c.crashDirectory = $0 }
        switch TracingSettings.parse(environment: env) {
        case .success(let t): c.tracing = t
        case .failure(let p): problems.append(Problem(variable: p.variable, value: env[p.variable] ?? "", allowed: p.message))
        }
        if c.jobStore == .postgres && c.databaseURL == nil {
            problems.append(Problem(variable: "ABM_JOB_STORE", value: "postgres", allowed: "the postgres store needs ABM_DATABASE_URL"))
        }
        if c.logTarget == .file && c.logFile == nil {
            problems.append(Problem(variable: "ABM_LOG_TARGET", value: "file", allowed: "the file target needs ABM_LOG_FILE"))
        }
        return problems.isEmpty ? .success(c) : .failure(ConfigurationError(problems: problems))
    }
}

public struct ConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    public var problems: [ServiceConfiguration.Problem]
    public var description: String {
        "invalid configuration:\n" + problems.map { "  \($0)" }.joined(separator: "\n")
    }
}

/// `100/minute`: a count per fixed window.
public struct RateLimit: Sendable, Equatable, CustomStringConvertible {
    public enum Window: String, Sendable, CaseIterable {
        case second, minute, hour, day
        public var seconds: Int {
            switch self {
            case .second: return 1
            case .minute: return 60
            case .hour: return 3600
            case .day: return 86400
            }
        }
    }

    public var count: Int
    public var window: Window

    public init(count: Int, window: Window) {
        self.count = count
        self.window = window
    }

    public init?(parsing s: String) {
        let parts = s.lowercased().split(separator: "/").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, let n = Int(parts[0]), n > 0 else { return nil }
        var unit = parts[1]
        if unit.hasSuffix("s") { unit.removeLast() }
        if unit.hasPrefix("1 ") { unit.removeFirst(2) }
        guard let w = Window(rawValue: unit) else { return nil }
        self.init(count: n, window: w)
    }

    /// The original's 429 wording: `20 per 1 minute`.
    public var description: String { "\(count) per 1 \(window.rawValue)" }
}

extension ServiceConfiguration {
    /// The rule evaluator's settings; the service's own series get `job="abm"` and `instance="host:port"`.
    public var alertingConfiguration: AlertingConfiguration {
        var a = AlertingConfiguration()
        a.ruleFiles = alertRuleFiles
        a.evaluationInterval = alertEvaluationIntervalMs
        a.alertmanagerURL = alertmanagerURL
        a.resendDelay = alertResendIntervalMs
        let hostPart = host.contains(":") ? "[\(host)]" : host
        a.instance = "\(hostPart):\(port)"
        a.externalURL = "http://\(hostPart):\(port)"
        return a
    }
}
