import Foundation

/// Whether traces are exported, decided from the OpenTelemetry environment variables before anything starts.
///
/// Tracing is off unless an OTLP endpoint is set (`OTEL_EXPORTER_OTLP_ENDPOINT` or
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) or `OTEL_SDK_DISABLED=false` asks for the default endpoint
/// (`http://localhost:4318/v1/traces`); `OTEL_SDK_DISABLED=true` and `OTEL_TRACES_EXPORTER=none` turn it off
/// whatever else is set. Only OTLP over HTTP with protobuf is built: `grpc` and `http/json` are refused with a
/// reason (gRPC is not compiled in; swift-otel's JSON encodes ids in base64, which collectors reject). Every
/// other `OTEL_*` variable swift-otel reads (sampler, batch processor, headers, timeout, compression,
/// certificates, resource attributes, service name, propagators) is passed to it unchanged.
public struct TracingSettings: Sendable, Equatable {
    public var enabled: Bool
    /// Where spans go (for the startup log line): the traces URL swift-otel will post to.
    public var endpoint: String?
    /// `OTEL_TRACES_SAMPLER` (default `parentbased_always_on`), for the startup log line.
    public var sampler: String

    public init(enabled: Bool, endpoint: String?, sampler: String) {
        self.enabled = enabled
        self.endpoint = endpoint
        self.sampler = sampler
    }

    public struct Problem: Error, Equatable, CustomStringConvertible {
        public let variable: String
        public let message: String
        public var description: String { "\(variable): \(message)" }
    }

    public static let defaultEndpoint = "http://localhost:4318"

    public static func parse(environment env: [String: String]) -> Result<TracingSettings, Problem> {
        func value(_ key: String) -> String? {
            guard let v = env[key]?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
            return v
        }
        var sdkDisabled: Bool?
        if let raw = value("OTEL_SDK_DISABLED") {
            switch raw.lowercased() {
            case "true": sdkDisabled = true
            case "false": sdkDisabled = false
            default: return .failure(Problem(variable: "OTEL_SDK_DISABLED", message: "must be true or false, not \"\(raw)\""))
            }
        }
        let sampler = value("OTEL_TRACES_SAMPLER") ?? "parentbased_always_on"
        let tracesEndpoint = value("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        let sharedEndpoint = value("OTEL_EXPORTER_OTLP_ENDPOINT")
        if let exporter = value("OTEL_TRACES_EXPORTER") {
            switch exporter.lowercased() {
            case "none": return .success(TracingSettings(enabled: false, endpoint: nil, sampler: sampler))
            case "otlp": break
            default:
                return .failure(
                    Problem(variable: "OTEL_TRACES_EXPORTER", message: "\"\(exporter)\" is not supported; use otlp (OTLP over HTTP) or none"))
            }
        }
        let wanted = sdkDisabled == false || (sdkDisabled != true && (tracesEndpoint != nil || sharedEndpoint != nil))
        guard wanted else { return .success(TracingSettings(enabled: false, endpoint: nil, sampler: sampler)) }
        for key in ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"] {
            guard let p = value(key) else { continue }
            switch p.lowercased() {
            case "http/protobuf": break
            case "grpc":
                return .failure(
                    Problem(variable: key, message: "grpc is not built into this service; use http/protobuf (port 4318 on a collector)"))
            case "http/json":
                return .failure(
                    Problem(
                        variable: key,
                        message: "http/json is refused: its trace and span ids are encoded in base64, which collectors reject; use http/protobuf"))
            default:
                return .failure(Problem(variable: key, message: "\"\(p)\" is not an OTLP protocol; use http/protobuf"))
            }
            break  // the signal-specific variable wins over the shared one
        }
        for key in ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"] {
            guard let e = value(key) else { continue }
            guard let url = URL(string: e), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", url.host != nil
            else {
                return .failure(Problem(variable: key, message: "\"\(e)\" is not an http:// or https:// URL"))
            }
        }
        if let ratio = value("OTEL_TRACES_SAMPLER_ARG"), sampler.lowercased().hasSuffix("traceidratio") {
            guard let r = Double(ratio), r >= 0, r <= 1 else {
                return .failure(Problem(variable: "OTEL_TRACES_SAMPLER_ARG", message: "must be a ratio from 0 to 1, not \"\(ratio)\""))
            }
        }
        if let propagators = value("OTEL_PROPAGATORS") {
            let names = propagators.lowercased().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard names.allSatisfy({ $0 == "tracecontext" }) else {
                return .failure(
                    Problem(
                        variable: "OTEL_PROPAGATORS",
                        message: "only tracecontext (W3C traceparent and tracestate) is supported, not \"\(propagators)\""))
            }
        }
        let known = [
            "always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio",
        ]
        guard known.contains(sampler.lowercased()) else {
            return .failure(Problem(variable: "OTEL_TRACES_SAMPLER", message: "\"\(sampler)\" is not one of \(known.joined(separator: ", "))"))
        }
        let endpoint: String
        if let tracesEndpoint {
            endpoint = tracesEndpoint
        } else {
            let base = sharedEndpoint ?? defaultEndpoint
            endpoint = base.hasSuffix("/") ? base + "v1/traces" : base + "/v1/traces"
        }
        return .success(TracingSettings(enabled: true, endpoint: endpoint, sampler: sampler))
    }
}
