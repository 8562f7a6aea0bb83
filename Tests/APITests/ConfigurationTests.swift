import Foundation
import Testing

@testable import API
import Jobs

@Suite struct ConfigurationTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func defaultsMatchTheDesign() throws {
        let c = try ServiceConfiguration.load(environment: [:]).get()
        #expect(c.host == "127.0.0.1" && c.port == 8000 && c.dataDirectory == "./data")
        #expect(c.maxConcurrentJobs == 5 && c.jobTTLHours == 24 && c.maxRequestSize == 10_485_760)
        #expect(c.defaultRateLimit == RateLimit(count: 100, window: .minute))
        #expect(c.corsOrigins.count == 6)
    }

    @Test func readsEveryVariableAndFlagsWin() throws {
        let env = [
            "ABM_HOST": "0.0.0.0", "ABM_PORT": "9000", "ABM_DATA_DIR": "/var/lib/abm", "ABM_JOB_STORE": "memory", "LOG_LEVEL": "debug",
            "RATE_LIMIT_ENABLED": "False", "DEFAULT_RATE_LIMIT": "10/second", "CORS_ORIGINS": " https://a.example , ,http://b.example",
            "ABM_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8",
            "MAX_REQUEST_SIZE": "2048", "ABM_MAX_CONCURRENT_JOBS": "3", "ABM_MAX_QUEUED_JOBS": "7",
            "ABM_MAX_QUEUED_JOBS_PER_CLIENT": "4", "ABM_JOB_LEASE_SECONDS": "12", "ABM_JOB_TTL_HOURS": "2",
            "ABM_CACHE_MAX_ENTRIES": "4", "ABM_CACHE_TTL_MINUTES": "5", "ABM_MAX_SYNC_SIMULATIONS": "6", "ABM_MAX_WORK_UNITS": "5000000",
            "ABM_MAX_RESULT_BYTES": "2000000", "ABM_MAX_CONNECTIONS": "100", "ABM_IDLE_TIMEOUT_SECONDS": "9",
            "ABM_REQUEST_HEAD_TIMEOUT_SECONDS": "4", "ABM_BODY_TIMEOUT_SECONDS": "5", "ABM_WRITE_TIMEOUT_SECONDS": "6",
            "ABM_ALLOWED_HOSTS": "ABM.example.com, 127.0.0.1", "ABM_SHUTDOWN_TIMEOUT_SECONDS": "8", "ABM_SHUTDOWN_DRAIN_DELAY_SECONDS": "3",
            "PROMETHEUS_ENABLED": "off", "ABM_LOG_TARGET": "file", "ABM_LOG_FILE": "/var/log/abm/abm.log", "ABM_LOG_MAX_BYTES": "1000",
            "ABM_LOG_BACKUPS": "2", "ABM_LOG_ROTATE_DAILY": "yes", "ABM_LOG_COMPRESS": "true", "ABM_LOG_FILE_MODE": "0600",
            "ABM_MEMORY_LIMIT_BYTES": "1073741824", "ABM_DISK_MIN_FREE_BYTES": "1024", "ABM_ENV_FILE": "/etc/abm/abm.env",
            "ABM_ALERTING_ENABLED": "no", "ABM_ALERT_RULES": "/etc/abm/a.yml, /etc/abm/b.yml", "ABM_ALERT_EVAL_INTERVAL": "30s",
            "ABM_ALERTMANAGER_URL": "http://127.0.0.1:9093", "ABM_ALERT_RESEND_INTERVAL": "2m", "ABM_TEST_FAULTS": "",
            "ABM_DATABASE_URL": "postgres://abm@db.example:6432/jobs?sslmode=require", "ABM_DATABASE_PASSWORD_FILE": #filePath,
            "ABM_DATABASE_MAX_CONNECTIONS": "20", "ABM_INSTANCE_ID": "abm-2", "ABM_JOB_NOTIFY": "off", "ABM_JOB_POLL_INTERVAL_MS": "250",
            "ABM_ERROR_FINGERPRINT_LABELS": "7", "ABM_CRASH_DIR": "/var/lib/abm/crash",
        ]
        #expect(Set(env.keys) == Set(ServiceConfiguration.variables))
        let c = try ServiceConfiguration.load(environment: env, overrides: ["ABM_PORT": "9001"]).get()
        #expect(!c.alertingEnabled && c.alertRuleFiles == ["/etc/abm/a.yml", "/etc/abm/b.yml"] && c.alertEvaluationIntervalMs == 30_000)
        #expect(c.alertmanagerURL == "http://127.0.0.1:9093" && c.alertResendIntervalMs == 120_000)
        #expect(c.errorFingerprintLabels == 7 && c.crashReportDirectory == "/var/lib/abm/crash" && !c.tracing.enabled)
        #expect(c.alertingConfiguration.instance == "0.0.0.0:9001" && c.alertingConfiguration.resendDelay == 120_000)
        #expect(c.host == "0.0.0.0" && c.port == 9001 && c.dataDirectory == "/var/lib/abm" && c.jobStore == .memory)
        #expect(c.logLevel == .debug && !c.rateLimitEnabled && c.defaultRateLimit == RateLimit(count: 10, window: .second))
        #expect(c.corsOrigins == ["https://a.example", "http://b.example"])
        #expect(c.trustedProxies == ["127.0.0.1", "10.0.0.0/8"])
        #expect(c.maxRequestSize == 2048 && c.maxConcurrentJobs == 3 && c.maxQueuedJobs == 7 && c.jobTTLHours == 2)
        #expect(c.maxQueuedJobsPerClient == 4 && c.jobLeaseSeconds == 12 && c.maxWorkUnits == 5_000_000)
        #expect(c.maxResultBytes == 2_000_000 && c.maxConnections == 100 && c.idleTimeoutSeconds == 9)
        #expect(c.requestHeadTimeoutSeconds == 4 && c.bodyTimeoutSeconds == 5 && c.writeTimeoutSeconds == 6)
        #expect(c.allowedHosts == ["abm.example.com", "127.0.0.1"])
        #expect(c.cacheMaxEntries == 4 && c.cacheTTLMinutes == 5 && c.maxSyncSimulations == 6 && c.shutdownTimeoutSeconds == 8 && c.shutdownDrainDelaySeconds == 3)
        #expect(!c.prometheusEnabled && c.logTarget == .file && c.logFile == "/var/log/abm/abm.log" && c.logMaxBytes == 1000)
        #expect(c.logBackups == 2 && c.logRotateDaily && c.logCompress && c.logFileMode == 0o600)
        #expect(c.memoryLimitBytes == 1_073_741_824 && c.diskMinFreeBytes == 1024 && c.envFile == "/etc/abm/abm.env")
        #expect(c.databaseURL == "postgres://abm@db.example:6432/jobs?sslmode=require" && c.databasePasswordFile == #filePath)
        #expect(c.databaseMaxConnections == 20 && c.instanceID == "abm-2" && !c.jobNotify && c.jobPollIntervalMs == 250)
    }

    @Test func thePostgresStoreNeedsAValidURL() {
        guard case .failure(let e) = ServiceConfiguration.load(environment: ["ABM_JOB_STORE": "postgres"], overrides: [:]) else {
            Issue.record("postgres without a URL was accepted")
            return
        }
        #expect("\(e)".contains("ABM_DATABASE_URL"))
        for bad in ["http://abm@h/db", "postgres://h/db", "postgres://abm@h/", "postgres://abm@h/db?sslmode=verify", "postgres://abm@h:0/db"] {
            #expect(PostgresSettings(url: bad) == nil, "\(bad)")
        }
        for bad in ["has space", "", String(repeating: "a", count: 101)] {
            guard case .failure = ServiceConfiguration.load(environment: ["ABM_INSTANCE_ID": bad], overrides: [:]) else {
                Issue.record("instance id \(bad) accepted")
                continue
            }
        }
        let s = PostgresSettings(url: "postgresql://u%40x:se%2Fcret@10.0.0.5/abm", password: nil)
        #expect(s?.username == "u@x" && s?.password == "se/cret" && s?.port == 5432 && s?.sslMode == "prefer")
        #expect(s?.redacted == "postgres://u@x@10.0.0.5:5432/abm")
        #expect(PostgresSettings(url: "postgres://u:inurl@h/abm", password: "fromfile")?.password == "fromfile")
    }

    @Test func everyBadValueGetsOneMessage() {
        let result = ServiceConfiguration.load(environment: [
            "ABM_PORT": "eighty", "LOG_LEVEL": "LOUD", "DEFAULT_RATE_LIMIT": "lots", "ABM_MAX_CONCURRENT_JOBS": "0",
            "RATE_LIMIT_ENABLED": "maybe", "CORS_ORIGINS": "ftp://x", "ABM_LOG_FILE_MODE": "777",
            "ABM_ALERT_EVAL_INTERVAL": "500ms", "ABM_ALERTMANAGER_URL": "https://am:9093", "ABM_ALERT_RULES": " , ",
            "ABM_MAX_CONNECTIONS": "2", "ABM_ALLOWED_HOSTS": "a b",
        ])
        guard case .failure(let error) = result else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.problems.map(\.variable).sorted() == [
            "ABM_ALERTMANAGER_URL", "ABM_ALERT_EVAL_INTERVAL", "ABM_ALERT_RULES", "ABM_ALLOWED_HOSTS", "ABM_LOG_FILE_MODE", "ABM_MAX_CONCURRENT_JOBS",
            "ABM_MAX_CONNECTIONS", "ABM_PORT",
            "CORS_ORIGINS", "DEFAULT_RATE_LIMIT", "LOG_LEVEL", "RATE_LIMIT_ENABLED",
        ])
        #expect(error.description.contains(#"ABM_ALERT_EVAL_INTERVAL="500ms": a duration from 1s to 1h, such as 15s"#))
        #expect(error.description.contains(#"ABM_PORT="eighty": an integer from 0 to 65535"#))
    }

    @Test func rateLimitSyntax() {
        #expect(RateLimit(parsing: "100/minute") == RateLimit(count: 100, window: .minute))
        #expect(RateLimit(parsing: "5 / hours") == RateLimit(count: 5, window: .hour))
        #expect(RateLimit(parsing: "1/1 day") == RateLimit(count: 1, window: .day))
        #expect(RateLimit(parsing: "0/minute") == nil)
        #expect(RateLimit(parsing: "ten/minute") == nil)
        #expect(RateLimit(count: 20, window: .minute).description == "20 per 1 minute")
    }

    /// `.env.example` documents exactly the variables the code reads: the registry, and every quoted
    /// variable name in the sources.
    @Test func envExampleMatchesTheCode() throws {
        let example = try String(contentsOf: Self.root.appendingPathComponent(".env.example"), encoding: .utf8)
        let documented = Set(example.split(separator: "\n").compactMap { line -> String? in
            let l = line.hasPrefix("# ") ? line.dropFirst(2) : line[...]
            guard let eq = l.firstIndex(of: "="), l[l.startIndex..<eq].allSatisfy({ $0.isUppercase || $0 == "_" || $0.isNumber }) else { return nil }
            return String(l[l.startIndex..<eq])
        })
        #expect(documented == Set(ServiceConfiguration.variables + ServiceConfiguration.openTelemetryVariables))
        var read = Set<String>(ServiceConfiguration.openTelemetryVariables)
        let pattern = try Regex(#""(ABM_[A-Z0-9_]+|OTEL_[A-Z0-9_]+|LOG_LEVEL|RATE_LIMIT_ENABLED|DEFAULT_RATE_LIMIT|CORS_ORIGINS|MAX_REQUEST_SIZE|PROMETHEUS_ENABLED)""#)
        let sources = Self.root.appendingPathComponent("Sources")
        for case let url as URL in FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)! where url.pathExtension == "swift" {
            let text = try String(contentsOf: url, encoding: .utf8)
            for m in text.matches(of: pattern) { read.insert(String(text[m.range]).trimmingCharacters(in: CharacterSet(charactersIn: "\""))) }
        }
        // ABM_TEST_FAULTS is read by debug builds only (Sources/abm/TestFaults.swift).
        let faults = try String(contentsOf: sources.appendingPathComponent("abm/TestFaults.swift"), encoding: .utf8)
        #expect(faults.contains("#if DEBUG"))
        #expect(read == documented, "read but not documented: \(read.subtracting(documented)); documented but not read: \(documented.subtracting(read))")
    }
}
