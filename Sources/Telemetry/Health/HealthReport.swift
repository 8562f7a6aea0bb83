import Foundation
import Synchronization

/// A health report in the `application/health+json` format (draft-inadarei-api-health-check): an overall
/// status (the worst of its checks), and checks keyed `component:measurement`.
public struct HealthReport: Sendable {
    public struct Entry: Sendable {
        public var name: String
        public var result: HealthCheckResult
        public var time: Date
    }

    public var status: HealthStatus
    public var entries: [Entry]
    public var serviceID: String
    public var version: String
    public var notes: [String] = []

    /// The report as JSON. Without `verbose`, checks carry only their status.
    public func json(verbose: Bool) -> [String: Any] {
        var checks: [String: Any] = [:]
        for e in entries {
            var c: [String: Any] = ["status": e.result.status.rawValue]
            if verbose {
                c["time"] = ISO8601DateFormatter().string(from: e.time)
                if let v = e.result.observedValue { c["observedValue"] = v }
                if let u = e.result.observedUnit { c["observedUnit"] = u }
                if let o = e.result.output { c["output"] = o }
            }
            checks[e.name] = [c]
        }
        var body: [String: Any] = [
            "status": status.rawValue, "version": "1", "releaseId": version, "serviceId": serviceID, "checks": checks,
        ]
        if verbose && !notes.isEmpty { body["notes"] = notes }
        return body
    }

    public func data(verbose: Bool) -> Data {
        (try? JSONSerialization.data(withJSONObject: json(verbose: verbose), options: [.sortedKeys])) ?? Data("{}".utf8)
    }
}

/// Runs the registered checks for a probe, concurrently, each within `timeout` (a check that does not
/// answer in time fails with "timed out").
public final class HealthRegistry: Sendable {
    public let serviceID: String
    public let version: String
    public let timeout: Duration
    private let checks: MutexBox<[any HealthCheck]>

    public init(serviceID: String = "abm", version: String, timeout: Duration = .seconds(2), checks: [any HealthCheck] = []) {
        self.serviceID = serviceID
        self.version = version
        self.timeout = timeout
        self.checks = MutexBox(checks)
    }

    public func register(_ c: any HealthCheck) { checks.mutate { $0.append(c) } }

    public var names: [String] { checks.value.map(\.name) }

    /// `probes` nil means every check (the full `/health` report).
    public func report(_ probes: HealthProbes? = nil) async -> HealthReport {
        let selected = checks.value.filter { probes == nil || !$0.probes.isDisjoint(with: probes!) }
        let timeout = self.timeout
        let entries = await withTaskGroup(of: (Int, HealthReport.Entry).self) { group in
            for (i, c) in selected.enumerated() {
                group.addTask {
                    let result = await self.run(c, timeout: timeout)
                    return (i, HealthReport.Entry(name: c.name, result: result, time: Date()))
                }
            }
            var out = [HealthReport.Entry?](repeating: nil, count: selected.count)
            for await (i, e) in group { out[i] = e }
            return out.compactMap { $0 }
        }
        let status = entries.map(\.result.status).max() ?? .pass
        return HealthReport(status: status, entries: entries, serviceID: serviceID, version: version)
    }

    /// Checks whose last run passed its deadline and has not returned yet: a stuck check is not started
    /// again on every probe (concurrent probes of a healthy check still run it side by side).
    private let stuck = Mutex(Set<String>())

    /// A check runs in a task of its own and the report waits for it only until the deadline: a check that
    /// ignores cancellation (a hung disk, a lock) cannot hold the report, as a task group would (it waits
    /// for every child). While a run that timed out is still going, the next reports fail the check at once.
    func run(_ c: any HealthCheck, timeout: Duration) async -> HealthCheckResult {
        let name = c.name
        guard !stuck.withLock({ $0.contains(name) }) else {
            return HealthCheckResult(.fail, output: "still running from an earlier probe (timed out after \(timeout))")
        }
        let result: HealthCheckResult? = await withCheckedContinuation { k in
            let once = FirstOf()
            let parts = timeout.components
            let nanos = Int(parts.seconds) * 1_000_000_000 + Int(parts.attoseconds / 1_000_000_000)
            Task {
                // The deadline counts from the moment the check starts (a busy pool that schedules it late
                // does not fail a quick check), on a Dispatch timer (a check that never returns is cut off
                // whatever the pool is doing).
                DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(nanos)) {
                    if once.claim() {
                        self.stuck.withLock { _ = $0.insert(name) }
                        k.resume(returning: nil)
                    }
                }
                let r = await c.check()
                self.stuck.withLock { _ = $0.remove(name) }
                if once.claim() { k.resume(returning: r) }
            }
        }
        return result ?? HealthCheckResult(.fail, output: "timed out after \(timeout)")
    }
}

/// True for the first caller only: which of two racing tasks resumes a continuation.
final class FirstOf: Sendable {
    private let taken = Atomic(false)
    func claim() -> Bool { taken.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged }
}

/// A small lock-protected value.
final class MutexBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T
    init(_ v: T) { stored = v }
    var value: T {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
    func mutate(_ f: (inout T) -> Void) {
        lock.lock()
        f(&stored)
        lock.unlock()
    }
}
