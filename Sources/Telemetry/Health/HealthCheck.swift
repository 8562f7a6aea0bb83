import Foundation

public enum HealthStatus: String, Sendable, Comparable {
    case pass, warn, fail

    var rank: Int {
        switch self {
        case .pass: return 0
        case .warn: return 1
        case .fail: return 2
        }
    }
    public static func < (a: HealthStatus, b: HealthStatus) -> Bool { a.rank < b.rank }
}

/// Which probes a check takes part in.
public struct HealthProbes: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// The process and its event loops only: a failing liveness check means "restart me".
    public static let live = HealthProbes(rawValue: 1)
    /// Able to take traffic now.
    public static let ready = HealthProbes(rawValue: 2)
    /// Startup work finished.
    public static let startup = HealthProbes(rawValue: 4)
    public static let all: HealthProbes = [.live, .ready, .startup]
}

public struct HealthCheckResult: Sendable, Equatable {
    public var status: HealthStatus
    public var observedValue: Double?
    public var observedUnit: String?
    public var output: String?

    public init(_ status: HealthStatus, observedValue: Double? = nil, observedUnit: String? = nil, output: String? = nil) {
        self.status = status
        self.observedValue = observedValue
        self.observedUnit = observedUnit
        self.output = output
    }
}

/// One health check. Its name is `component:measurement` (for example `job-store:writable`), the key it
/// has in the `/health` report.
public protocol HealthCheck: Sendable {
    var name: String { get }
    var probes: HealthProbes { get }
    func check() async -> HealthCheckResult
}

/// A check from a closure, for checks the service defines at its composition root.
public struct ClosureHealthCheck: HealthCheck {
    public let name: String
    public let probes: HealthProbes
    private let body: @Sendable () async -> HealthCheckResult

    public init(_ name: String, probes: HealthProbes, _ body: @escaping @Sendable () async -> HealthCheckResult) {
        self.name = name
        self.probes = probes
        self.body = body
    }

    public func check() async -> HealthCheckResult { await body() }
}
