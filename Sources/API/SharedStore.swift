import Foundation
import Jobs
import Logging
import PostgresNIO
import ServiceLifecycle
import Telemetry

/// The PostgreSQL job store of `ABM_JOB_STORE=postgres`: its connection pool, the store over it and the
/// notification session, with the services that run them.
struct SharedStore {
    let store: PostgresJobStore
    let signals: PostgresJobSignals?
    let services: [any Service]

    /// The configuration was validated at load: the URL parses and the password file was readable.
    static func make(configuration: ServiceConfiguration, instance: String, logger: Logger, telemetry: TelemetryBundle) -> SharedStore? {
        let password = configuration.databasePasswordFile.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) }?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard let url = configuration.databaseURL, let settings = PostgresSettings(url: url, password: password) else { return nil }
        let client = PostgresClient(
            configuration: settings.clientConfiguration(instance: instance, maximumConnections: configuration.databaseMaxConnections),
            backgroundLogger: Logger(label: "abm.postgres"))
        let store = PostgresJobStore(client: client, logger: Logger(label: "abm.jobs.store"))
        var signals: PostgresJobSignals?
        if configuration.jobNotify {
            do {
                signals = try PostgresJobSignals(
                    client: client, settings: settings, instance: instance, logger: Logger(label: "abm.jobs.notify"),
                    metrics: telemetry.metricsFactory)
            } catch {
                logger.error("job notifications unavailable; polling only", metadata: ["error": "\(error)"])
            }
        }
        if let signals { telemetry.exporter.register(NotifyCollector(signals: signals)) }
        logger.info("job store: postgres", metadata: ["database": "\(settings.redacted)", "instance": "\(instance)"])
        return SharedStore(store: store, signals: signals, services: [client] + (signals.map { [$0] } ?? []))
    }

    struct NotifyCollector: MetricsCollector {
        let name = "job-notify"
        let signals: PostgresJobSignals

        func collect() async throws -> [MetricFamilySnapshot] {
            [
                .single(
                    MetricCatalogue.jobNotifyConnected, MetricCatalogue.entry(MetricCatalogue.jobNotifyConnected)!.help, .gauge,
                    signals.isListening ? 1 : 0)
            ]
        }
    }
}
