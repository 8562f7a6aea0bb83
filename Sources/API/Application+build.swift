import Alerting
import Foundation
import Hummingbird
import HummingbirdCore
import Jobs
import Logging
import ServiceLifecycle
import Telemetry

/// The parts of the HTTP service that `abm serve` (the composition root) runs in its one `ServiceGroup`: the
/// job queue, the event-loop monitor, the rule evaluator and the HTTP server, each a service of its own.
public struct ServiceParts: Sendable {
    /// The shared store's own services (the PostgreSQL pool, then the notification session), started
    /// before the queue and stopped after it, so the queue's last writes at shutdown still reach the store.
    public let storeServices: [any Service]
    public let queue: JobQueue
    public let eventLoops: EventLoopMonitor
    public let alerting: AlertingService?
    let makeApplication: @Sendable (_ services: [any Service]) -> Application<RouterResponder<ABMRequestContext>>

    /// The HTTP server alone: its background services run beside it, in the caller's group.
    public var httpServer: Application<RouterResponder<ABMRequestContext>> { makeApplication([]) }

    /// The background services in start order (the reverse of their shutdown order).
    public var backgroundServices: [any Service] { storeServices + [queue, eventLoops] + (alerting.map { [$0] } ?? []) }

    /// The server with its background services inside it, for tests that run one application.
    public var application: Application<RouterResponder<ABMRequestContext>> { makeApplication(backgroundServices) }
}

/// One application with every part inside, for tests; `abm serve` lists the parts itself.
public func buildApplication(
    configuration: ServiceConfiguration, logger: Logger, telemetry: TelemetryBundle, jobStore: (any JobStore)? = nil,
    rateLimitClock: (@Sendable () -> Int64)? = nil,
    jobProgressHook: (@Sendable (String, Int) -> Void)? = nil,
    alerting: AlertingService? = nil
) async -> some ApplicationProtocol {
    await buildServiceParts(
        configuration: configuration, logger: logger, telemetry: telemetry, jobStore: jobStore, rateLimitClock: rateLimitClock,
        jobProgressHook: jobProgressHook, alerting: alerting
    ).application
}

/// Builds the job store and queue, the router with its middleware and the HTTP server.
public func buildServiceParts(
    configuration: ServiceConfiguration, logger: Logger, telemetry: TelemetryBundle, jobStore: (any JobStore)? = nil,
    rateLimitClock: (@Sendable () -> Int64)? = nil,
    jobProgressHook: (@Sendable (String, Int) -> Void)? = nil,
    alerting: AlertingService? = nil
) async -> ServiceParts {
    let instance = configuration.instanceID ?? "\(ProcessInfo.processInfo.hostName):\(configuration.port)"
    let shared = jobStore == nil && configuration.jobStore == .postgres
        ? SharedStore.make(configuration: configuration, instance: instance, logger: logger, telemetry: telemetry) : nil
    let store: any JobStore =
        jobStore ?? shared?.store
        ?? (configuration.jobStore == .memory
            ? InMemoryJobStore() : SQLiteJobStore(directory: configuration.dataDirectory))
    var queueConfiguration = JobQueueConfiguration()
    queueConfiguration.pollInterval = Double(configuration.jobPollIntervalMs) / 1000
    queueConfiguration.maxConcurrentJobs = configuration.maxConcurrentJobs
    queueConfiguration.maxQueuedJobs = configuration.maxQueuedJobs
    queueConfiguration.maxQueuedJobsPerClient = configuration.maxQueuedJobsPerClient
    queueConfiguration.leaseSeconds = Double(configuration.jobLeaseSeconds)
    queueConfiguration.instanceID = instance
    // Submissions are refused (503) while the data disk is below its floor, before any CPU is spent.
    let disk = DiskSpaceCheck(path: configuration.dataDirectory, minimumFreeBytes: configuration.diskMinFreeBytes)
    if configuration.jobStore == .sqlite { queueConfiguration.admissionCheck = { disk.failure() } }
    queueConfiguration.jobTTL = TimeInterval(configuration.jobTTLHours) * 3600
    queueConfiguration.cacheMaxEntries = configuration.cacheMaxEntries
    queueConfiguration.cacheMaxAge = TimeInterval(configuration.cacheTTLMinutes) * 60
    queueConfiguration.sweepInterval = min(600, queueConfiguration.jobTTL / 4)
    queueConfiguration.progressHook = jobProgressHook
    queueConfiguration.tracer = telemetry.tracing.tracer
    let errors = telemetry.errors
    queueConfiguration.errorReporter = { type, message, logger, metadata in
        errors.record(source: "job", type: type, message: message, logger: logger, metadata: metadata)
    }
    let queue = JobQueue(
        store: store, configuration: queueConfiguration, logger: logger, metrics: telemetry.metricsFactory, signals: shared?.signals)
    ServiceChecks.register(queue: queue, configuration: configuration, telemetry: telemetry)

    let services = APIServices(
        configuration: configuration, jobs: queue, syncWorkers: WorkerPool(width: configuration.maxSyncSimulations),
        bodyReader: BodyReader(limit: configuration.maxRequestSize), hostMetrics: HostMetrics(), startedAt: .now,
        telemetry: telemetry, alerting: alerting)
    if let alerting { ServiceChecks.register(alerting: alerting, telemetry: telemetry) }
    let router = buildRouter(services: services, rateLimitClock: rateLimitClock)
    let connectionMetrics = ConnectionMetrics(factory: telemetry.metricsFactory)
    let limits = ConnectionTimeouts.Limits(
        idle: .seconds(Int64(configuration.idleTimeoutSeconds)), head: .seconds(Int64(configuration.requestHeadTimeoutSeconds)),
        body: .seconds(Int64(configuration.bodyTimeoutSeconds)), write: .seconds(Int64(configuration.writeTimeoutSeconds)))
    let (maxConnections, note) = FileDescriptorLimit.fit(connections: configuration.maxConnections)
    if let note { logger.warning("connection cap lowered to fit the open-file limit", metadata: ["detail": "\(note)"]) }
    let responder = router.buildResponder()
    let http1 = HTTPServerBuilder.http1(
        configuration: .init(additionalChannelHandlers: [
            FlushBeforeCloseHandler(), ExpectContinueHandler(), ConnectionGuardHandler(limits: limits, metrics: connectionMetrics),
        ]))
    let cap = ConnectionCap(limit: maxConnections, metrics: connectionMetrics)
    return ServiceParts(storeServices: shared?.services ?? [], queue: queue, eventLoops: telemetry.eventLoops, alerting: alerting) { background in
        Application(
            responder: responder,
            // Responses in flight at shutdown are flushed whole before their connection closes.
            // `Expect: 100-continue` is answered at once. Idle, slow-head, stalled-upload and stalled-reader
            // connections are closed.
            server: http1,
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "abm-service",
                backlog: 1024, availableConnectionsDelegate: cap),
            services: background,
            onServerRunning: { channel in
                telemetry.listening.set()
                logger.info(
                    "listening",
                    metadata: [
                        "address": "\(channel.localAddress?.description ?? "?")", "port": "\(channel.localAddress?.port ?? 0)",
                    ])
            },
            logger: logger
        )
    }
}

/// The router with every route and the middleware in order (outermost first): client address, request id, server span
/// (when tracing is on), access log (and error events), metrics, CORS, error mapping, host allow-list, size limit, rate limit. Every GET route answers HEAD too (its status and
/// headers, no body; a streamed body's writer never runs).
func buildRouter(services: APIServices, rateLimitClock: (@Sendable () -> Int64)? = nil) -> Router<ABMRequestContext> {
    let router = Router(context: ABMRequestContext.self, options: .autoGenerateHeadEndpoints)
    let table = RouteTable([])
    let clock = rateLimitClock ?? { Int64(ProcessInfo.processInfo.systemUptime) }
    router.add(middleware: ClientAddressMiddleware(trusted: TrustedProxies.parse(services.configuration.trustedProxies.joined(separator: ",")) ?? TrustedProxies()))
    router.add(middleware: RequestIDMiddleware())
    // The span is current for everything inside it, so the access log line and error events carry its ids.
    if services.telemetry.tracing.settings.enabled {
        router.add(middleware: ServerSpanMiddleware(tracer: services.telemetry.tracing.tracer))
    }
    router.add(middleware: AccessLogMiddleware(errors: services.telemetry.errors))
    if services.configuration.prometheusEnabled {
        router.add(middleware: MetricsMiddleware(factory: services.telemetry.metricsFactory))
    }
    // CORS outside the error mapping: error responses carry the CORS headers too.
    router.add(middleware: CORSMiddleware(origins: services.configuration.corsOrigins))
    router.add(middleware: ErrorMiddleware(routes: table))
    if !services.configuration.allowedHosts.isEmpty {
        router.add(middleware: AllowedHostsMiddleware(services.configuration.allowedHosts))
    }
    router.add(middleware: BodyLimitMiddleware(limit: services.configuration.maxRequestSize))
    if services.configuration.rateLimitEnabled {
        router.add(middleware: RateLimitMiddleware(limiter: RateLimiter(now: clock), defaultLimit: services.configuration.defaultRateLimit))
    }
    let abm = ABMRoutes(services: services)
    CompatibilityRoutes(services: services).register(on: router)
    DocumentationRoutes(prometheusEnabled: services.configuration.prometheusEnabled).register(on: router)
    TelemetryRoutes(services: services).register(on: router)
    V1Routes(services: services).register(on: router)
    abm.register(on: router)
    JobRoutes(services: services, abm: abm).register(on: router)
    AlertRoutes(alerting: services.alerting).register(on: router)
    // The error middleware was added before the routes; it sees the final list through the shared table.
    table.set(router.routes.map { ($0.method, $0.path.description) })
    return router
}
