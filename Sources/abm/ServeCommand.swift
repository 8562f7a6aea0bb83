import API
import Alerting
import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import Telemetry

/// `abm serve`: the HTTP service. Settings come from the environment (see `.env.example`); these flags
/// override single variables.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the HTTP service.",
        discussion: "Every setting is an environment variable documented in .env.example; a flag overrides its variable."
    )

    @Option(help: "Listen address (ABM_HOST, default 127.0.0.1).") var host: String?
    @Option(help: "Listen port (ABM_PORT, default 8000).") var port: String?
    @Option(name: .customLong("data-dir"), help: "Data directory (ABM_DATA_DIR, default ./data).") var dataDir: String?
    @Option(name: .customLong("job-store"), help: "sqlite, memory or postgres (ABM_JOB_STORE).") var jobStore: String?
    @Option(name: .customLong("log-level"), help: "DEBUG, INFO, WARNING, ERROR or CRITICAL (LOG_LEVEL).") var logLevel: String?
    @Option(name: .customLong("max-concurrent-jobs"), help: "ABM_MAX_CONCURRENT_JOBS.") var maxConcurrentJobs: String?
    @Option(name: .customLong("max-queued-jobs"), help: "ABM_MAX_QUEUED_JOBS.") var maxQueuedJobs: String?

    var overrides: [String: String] {
        var o: [String: String] = [:]
        o["ABM_HOST"] = host
        o["ABM_PORT"] = port
        o["ABM_DATA_DIR"] = dataDir
        o["ABM_JOB_STORE"] = jobStore
        o["LOG_LEVEL"] = logLevel
        o["ABM_MAX_CONCURRENT_JOBS"] = maxConcurrentJobs
        o["ABM_MAX_QUEUED_JOBS"] = maxQueuedJobs
        return o
    }

    func run() async throws {
        let configuration: ServiceConfiguration
        switch ServiceConfiguration.load(environment: ProcessInfo.processInfo.environment, overrides: overrides) {
        case .success(let c): configuration = c
        case .failure(let error):
            printErr("abm: \(error)")
            throw ExitCode(78)  // EX_CONFIG
        }
        // The process-wide backends are chosen here, once: JSON logs (stderr, file or journald) carrying the
        // current span's ids, and a Prometheus registry behind swift-metrics. The tracer (swift-otel's, when an
        // OTLP endpoint is set) is handed to the parts that start spans rather than installed process-wide:
        // installed, the HTTP client of its own exporter would trace each export it sends.
        let logging = LoggingRuntime(configuration.loggingConfiguration)
        let telemetry: TelemetryBundle
        do {
            telemetry = try TelemetryBundle(
                version: ABMVersion.current, logging: logging,
                tracing: configuration.tracing.enabled
                    ? { metrics in
                        try TracingRuntime(
                            settings: configuration.tracing, serviceVersion: ABMVersion.current, instance: configuration.instanceID,
                            metrics: metrics, diagnostics: { label in logging.handler(label: label) })
                    } : nil,
                errorFingerprintsFile: configuration.dataDirectory + "/error-fingerprints.tsv",
                errorFingerprintLabels: configuration.errorFingerprintLabels)
        } catch {
            printErr("abm: tracing could not be set up: \(error)")
            logging.shutdown()
            throw ExitCode(78)
        }
        LoggingSystem.bootstrap({ label, provider in
            var handler = logging.handler(label: label)
            handler.metadataProvider = provider
            return handler
        }, metadataProvider: telemetry.tracing.loggingMetadataProvider)
        MetricsSystem.bootstrap(telemetry.metricsFactory)
        let logger = Logger(label: "abm")
        logger.info(
            "starting",
            metadata: [
                "event": "startup", "version": "\(ABMVersion.current)", "host": "\(configuration.host)", "port": "\(configuration.port)",
                "data_dir": "\(configuration.dataDirectory)", "log_destinations": "\(logging.destinations.joined(separator: ","))",
                "tracing": "\(configuration.tracing.endpoint.map { "otlp \($0), sampler \(configuration.tracing.sampler)" } ?? "off")",
            ])
        let crashes = CrashReports(directory: configuration.crashReportDirectory, errors: telemetry.errors, logger: logger).scan()
        telemetry.exporter.register(CrashReportsCollector(found: crashes.count))
        // The rules are checked before anything starts: invalid rule files stop the service here.
        var alerting: AlertingService?
        if configuration.alertingEnabled {
            do {
                let groups = try AlertingService.loadRules(configuration.alertRuleFiles)
                let exporter = telemetry.exporter
                alerting = AlertingService(
                    configuration: configuration.alertingConfiguration, groups: groups, scrape: { await exporter.scrape() },
                    logger: Logger(label: "abm.alerting"))
            } catch {
                printErr("abm: ABM_ALERT_RULES: invalid rule files:\n" + error.messages.joined(separator: "\n"))
                logging.shutdown()
                throw ExitCode(78)
            }
        }
        let parts = await buildServiceParts(configuration: configuration, logger: logger, telemetry: telemetry, alerting: alerting)
        let faults = TestFaults.fromEnvironment()
        faults.arm()
        let launched = ContinuousClock.now
        let systemd = SystemdService(
            notifier: SystemdNotifier(), telemetry: telemetry,
            inputs: .init(
                ready: {
                    guard telemetry.listening.isSet else { return false }
                    if faults.startupDelay > 0 && ContinuousClock.now - launched < .seconds(faults.startupDelay) { return false }
                    return await telemetry.health.report(.startup).status != .fail
                },
                status: { await telemetry.statusLine() }),
            logger: logger)
        let reload = ReloadService(logger: logger)
        reload.before { systemd.reloading() }
        reload.add("log-level") { Self.reloadLogLevel(from: configuration.envFile, logging: logging, logger: logger) }
        reload.add("reopen-logs") { logging.reopen() }
        if let alerting { reload.add("alert-rules") { alerting.reload() } }
        reload.after { systemd.reloaded() }
        telemetry.drain.onDrain { logger.info("shutting down", metadata: ["event": "shutdown"]) }
        // The one service group of the process. Services start in this order and shut down in reverse:
        //   1. drain: readiness turns 503 at once and the listener stays open for the drain delay, so a
        //      load balancer stops sending before anything stops;
        //   2. HTTP server: stops accepting, ends SSE streams with a `shutdown` event, gives synchronous
        //      simulations a quarter of the shutdown timeout (then 503) and lets responses in flight finish;
        //   3. alerting: the rule evaluator and Alertmanager delivery stop at once;
        //   4. event-loop monitor;
        //   5. job queue: running jobs are stopped and handed back to the store, for another instance or the
        //      next start;
        //   6. the shared store's notification session, then its connection pool (ABM_JOB_STORE=postgres
        //      only), after the queue so its last writes and signals still go out;
        //   7. tracing (when on): the span exporter flushes what the queue and the server ended, then stops;
        //   8. reload (SIGHUP) and 9. systemd (STOPPING=1, watchdog), last so both serve the whole shutdown.
        let drain = DrainSignalService(state: telemetry.drain, delay: .seconds(configuration.shutdownDrainDelaySeconds))
        let services: [any Service] =
            [systemd, reload] + (telemetry.tracing.service.map { [$0] } ?? []) + parts.storeServices + [parts.queue, parts.eventLoops] + (parts.alerting.map { [$0] } ?? []) + [parts.httpServer, drain]
        var group = ServiceGroupConfiguration(
            services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = .seconds(configuration.shutdownTimeoutSeconds)
        group.maximumCancellationDuration = .seconds(5)
        defer {
            logger.info("stopped", metadata: ["event": "shutdown"])
            logging.shutdown()
        }
        try await ServiceGroup(configuration: group).run()
    }
}

extension ServiceConfiguration.LogLevelName {
    var swiftLogLevel: Logger.Level {
        switch self {
        case .debug: return .debug
        case .info: return .info
        case .warning: return .warning
        case .error: return .error
        case .critical: return .critical
        }
    }
}

extension ServeCommand {
    /// SIGHUP re-reads `LOG_LEVEL` from `ABM_ENV_FILE` (the unit's environment file); an invalid value keeps
    /// the current level and says why.
    static func reloadLogLevel(from path: String?, logging: LoggingRuntime, logger: Logger) {
        guard let path else { return }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            logger.warning("reload: cannot read the environment file; keeping the current settings", metadata: ["path": "\(path)"])
            return
        }
        let values = EnvironmentFile.parse(text)
        guard let raw = values["LOG_LEVEL"] else { return }
        switch ServiceConfiguration.load(environment: ["LOG_LEVEL": raw]) {
        case .success(let c):
            logging.level.level = c.logLevel.swiftLogLevel
            logger.info("reload: log level applied", metadata: ["log_level": "\(raw)"])
        case .failure(let e):
            logger.error("reload: invalid LOG_LEVEL kept the current level", metadata: ["error": "\(e.problems.map(\.description).joined(separator: "; "))"])
        }
    }
}

extension ServiceConfiguration {
    var loggingConfiguration: LoggingConfiguration {
        var c = LoggingConfiguration()
        c.level = logLevel.swiftLogLevel
        c.target = LogTarget(rawValue: logTarget.rawValue) ?? .auto
        c.file = logFile
        c.rotation = RotationPolicy(maxBytes: logMaxBytes, backups: logBackups, daily: logRotateDaily, compress: logCompress)
        c.fileMode = mode_t(logFileMode)
        return c
    }
}

enum ABMVersion {
    /// The service version, reported in `abm_build_info`, `/health` and the startup log line.
    static let current = "1.0.0"
}
