import Foundation

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
                    let result = await Self.run(c, timeout: timeout)
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

    static func run(_ c: any HealthCheck, timeout: Duration) async -> HealthCheckResult {
        await withTaskGroup(of: HealthCheckResult?.self) { group in
            group.addTask { await c.check() }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? HealthCheckResult(.fail, output: "timed out after \(timeout)")
        }
    }
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
