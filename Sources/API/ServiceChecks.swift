import Alerting
import Foundation
import Jobs
import Telemetry

/// The service's own collectors and health checks, plugged into the telemetry module at the composition root.
enum ServiceChecks {
    /// Queue depth by state, when the store answers (a failed read is counted in
    /// `abm_metrics_collector_failures_total`, never reported as zeros).
    struct JobsCollector: MetricsCollector {
        let name = "jobs"
        let queue: JobQueue

        func collect() async throws -> [MetricFamilySnapshot] {
            let s = try await queue.stats()
            return [
                MetricFamilySnapshot(
                    name: MetricCatalogue.jobs, help: MetricCatalogue.entry(MetricCatalogue.jobs)!.help, kind: .gauge,
                    samples: JobStatus.allCases.map { .init(labels: [("state", $0.rawValue)], value: Double(s.counts[$0])) }),
                .single(
                    MetricCatalogue.jobOldestQueuedAge, MetricCatalogue.entry(MetricCatalogue.jobOldestQueuedAge)!.help, .gauge,
                    s.oldestQueuedAge),
            ]
        }
    }

    /// The queue's limits: settings, so always there, whatever the store does.
    struct JobLimitsCollector: MetricsCollector {
        let name = "job-limits"
        let maxQueuedJobs: Int
        let maxConcurrentJobs: Int

        func collect() async throws -> [MetricFamilySnapshot] {
            func help(_ n: String) -> String { MetricCatalogue.entry(n)!.help }
            return [
                .single(MetricCatalogue.jobQueueCapacity, help(MetricCatalogue.jobQueueCapacity), .gauge, Double(maxQueuedJobs)),
                .single(
                    MetricCatalogue.jobConcurrencyLimit, help(MetricCatalogue.jobConcurrencyLimit), .gauge,
                    Double(maxConcurrentJobs)),
            ]
        }
    }

    static func register(queue: JobQueue, configuration: ServiceConfiguration, telemetry: TelemetryBundle) {
        telemetry.exporter.register(JobsCollector(queue: queue))
        telemetry.exporter.register(
            JobLimitsCollector(maxQueuedJobs: configuration.maxQueuedJobs, maxConcurrentJobs: configuration.maxConcurrentJobs))
        telemetry.setStatusProvider {
            guard let s = try? await queue.stats() else { return "serving; job store unavailable" }
            return "serving; jobs: \(s.counts[.running]) running, \(s.counts[.pending]) queued"
        }
        let health = telemetry.health
        let drain = telemetry.drain
        health.register(
            ClosureHealthCheck("startup:complete", probes: [.startup, .ready]) {
                // Once recovered, startup stays complete; the store's health is job-store:writable's.
                if await queue.hasRecovered { return HealthCheckResult(.pass) }
                let r = await queue.readiness()
                if r.ready || r.reason == "draining" { return HealthCheckResult(.pass) }
                return HealthCheckResult(.fail, output: r.reason)
            })
        health.register(
            ClosureHealthCheck("job-store:writable", probes: [.ready]) {
                do {
                    try await queue.store.checkWritable()
                    return HealthCheckResult(.pass)
                } catch {
                    return HealthCheckResult(.fail, output: "\(error)")
                }
            })
        health.register(
            ClosureHealthCheck("service:draining", probes: [.ready]) {
                let draining = drain.isDraining
                let queueDraining = await queue.isDraining
                return (draining || queueDraining) ? HealthCheckResult(.fail, output: "shutting down") : HealthCheckResult(.pass)
            })
        // A full queue is a warning, not a readiness failure: one client filling it must not take the
        // instance out of its load balancer (submissions get 429, everything else is served).
        health.register(
            ClosureHealthCheck("job-queue:saturation", probes: []) {
                guard let s = try? await queue.stats() else { return HealthCheckResult(.warn, output: "job store unavailable") }
                let pending = s.counts[.pending]
                let ratio = s.maxQueuedJobs > 0 ? Double(pending) / Double(s.maxQueuedJobs) : (pending > 0 ? 1 : 0)
                let status: HealthStatus = ratio >= 0.8 ? .warn : .pass
                return HealthCheckResult(status, observedValue: ratio * 100, observedUnit: "percent", output: status == .pass ? nil : "\(pending) of \(s.maxQueuedJobs) queue slots used")
            })
        health.register(DiskSpaceCheck(path: configuration.dataDirectory, minimumFreeBytes: configuration.diskMinFreeBytes))
        let limit = configuration.memoryLimitBytes > 0 ? configuration.memoryLimitBytes : MemoryCheck.cgroupLimit()
        health.register(MemoryCheck(limitBytes: limit))
        telemetry.exporter.register(MemoryLimitCollector(limitBytes: limit))
    }

    /// The evaluator's metrics, a `/health` check that warns while a critical alert fires, and the firing
    /// alerts in the systemd status line.
    static func register(alerting: AlertingService, telemetry: TelemetryBundle) {
        telemetry.exporter.register(alerting.collector)
        telemetry.health.register(
            ClosureHealthCheck("alerts:critical-firing", probes: []) {
                let critical = alerting.firingCritical
                return HealthCheckResult(
                    critical.isEmpty ? .pass : .warn, observedValue: Double(critical.count), observedUnit: "alerts",
                    output: critical.isEmpty ? nil : "firing: " + critical.joined(separator: ", "))
            })
        telemetry.addStatusNote {
            let firing = alerting.firing
            return firing.isEmpty ? nil : "alerts firing: " + firing.joined(separator: ", ")
        }
    }
}
