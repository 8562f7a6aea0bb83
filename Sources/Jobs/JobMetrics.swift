import CoreMetrics
import Foundation

/// The queue's and the engine's counters, through swift-metrics (the backend is chosen by the executable;
/// tests pass their own factory). Names come from the metric catalogue.
struct JobMetrics: Sendable {
    let factory: any MetricsFactory

    /// Counters that rules, runbooks and dashboards name exist from the first scrape, at zero.
    init(factory: any MetricsFactory) {
        self.factory = factory
        Counter(label: "abm_job_store_errors_total", factory: factory).increment(by: 0)
        for reason in ["queue_full", "client_quota", "disk"] {
            Counter(label: "abm_job_submissions_refused_total", dimensions: [("reason", reason)], factory: factory).increment(by: 0)
        }
        Counter(label: "abm_job_leases_lost_total", factory: factory).increment(by: 0)
        Counter(label: "abm_job_fenced_writes_total", factory: factory).increment(by: 0)
        Counter(label: "abm_job_rescues_total", factory: factory).increment(by: 0)
        for kind in ["abm", "monte_carlo", "cached"] {
            Counter(label: "abm_jobs_submitted_total", dimensions: [("kind", kind)], factory: factory).increment(by: 0)
        }
        for kind in [JobKind.abm, .monteCarlo] {
            for status in [JobStatus.completed, .failed, .cancelled] {
                Counter(label: "abm_jobs_finished_total", dimensions: [("kind", kind.rawValue), ("status", status.rawValue)], factory: factory)
                    .increment(by: 0)
            }
            _ = Timer(label: "abm_job_duration_seconds", dimensions: [("kind", kind.rawValue)], factory: factory)
        }
        for engine in ["abm", "monte_carlo", "v1"] {
            Counter(label: "abm_simulations_total", dimensions: [("engine", engine)], factory: factory).increment(by: 0)
            Counter(label: "abm_simulation_agent_months_total", dimensions: [("engine", engine)], factory: factory).increment(by: 0)
            _ = Timer(label: "abm_simulation_duration_seconds", dimensions: [("engine", engine)], factory: factory)
        }
    }

    func refused(_ reason: String) {
        Counter(label: "abm_job_submissions_refused_total", dimensions: [("reason", reason)], factory: factory).increment()
    }

    func leaseLost() { Counter(label: "abm_job_leases_lost_total", factory: factory).increment() }
    func fencedWrite() { Counter(label: "abm_job_fenced_writes_total", factory: factory).increment() }
    func rescued(_ n: Int) { Counter(label: "abm_job_rescues_total", factory: factory).increment(by: Int64(n)) }

    func stateWriteFailed(_ operation: String) {
        Counter(label: "abm_job_state_write_failures_total", dimensions: [("operation", operation)], factory: factory).increment()
    }

    func submitted(_ kind: String) {
        Counter(label: "abm_jobs_submitted_total", dimensions: [("kind", kind)], factory: factory).increment()
    }

    func cache(hit: Bool) {
        Counter(label: "abm_job_cache_requests_total", dimensions: [("result", hit ? "hit" : "miss")], factory: factory).increment()
    }

    func finished(_ kind: JobKind, status: JobStatus, seconds: Double?) {
        Counter(label: "abm_jobs_finished_total", dimensions: [("kind", kind.rawValue), ("status", status.rawValue)], factory: factory)
            .increment()
        if let seconds {
            Timer(label: "abm_job_duration_seconds", dimensions: [("kind", kind.rawValue)], factory: factory)
                .recordNanoseconds(Int64(seconds * 1e9))
        }
    }

    func simulation(engine: String, agentMonths: Int, seconds: Double) {
        Self.simulation(engine: engine, agentMonths: agentMonths, seconds: seconds, factory: factory)
    }

    /// Also used by the API for synchronous runs.
    static func simulation(engine: String, agentMonths: Int, seconds: Double, factory: any MetricsFactory) {
        Counter(label: "abm_simulations_total", dimensions: [("engine", engine)], factory: factory).increment()
        Counter(label: "abm_simulation_agent_months_total", dimensions: [("engine", engine)], factory: factory)
            .increment(by: Int64(agentMonths))
        Timer(label: "abm_simulation_duration_seconds", dimensions: [("engine", engine)], factory: factory)
            .recordNanoseconds(Int64(seconds * 1e9))
    }

    func storeError() { Counter(label: "abm_job_store_errors_total", factory: factory).increment() }
}

/// Engine-level metrics for runs outside the queue.
public enum SimulationMetrics {
    public static func record(engine: String, agentMonths: Int, seconds: Double, factory: any MetricsFactory) {
        JobMetrics.simulation(engine: engine, agentMonths: agentMonths, seconds: seconds, factory: factory)
    }
}
