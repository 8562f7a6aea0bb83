import Foundation
import Testing
import TestSupport

/// Tracing end to end over the real binary: OTLP/HTTP (protobuf) to a receiver that decodes it with the official
/// opentelemetry-proto package (scripts/tracing-e2e.py holds the checks): the server span continues the incoming
/// trace and the response names it; a malformed traceparent starts a new trace; a job's producer span is in the
/// request's trace and its runs link to it, after a kill -9 and restart too; log lines carry the trace id; with
/// the receiver stopped requests are unaffected and the failed exports are counted; gRPC and JSON are refused.
extension RealProcessTests {
@Suite(.serialized) struct TracingE2ETests {
    static let python = SimulateCommandTests.root.appendingPathComponent(".tools/venv/bin/python").path
    static var available: Bool { FileManager.default.isExecutableFile(atPath: python) }

    @Test(.enabled(if: available, "needs the project's venv with opentelemetry-proto (scripts/python-tools)"), .timeLimit(.minutes(4)))
    func spansReachARealOTLPReceiver() async throws {
        let script = SimulateCommandTests.root.appendingPathComponent("scripts/tracing-e2e.py").path
        let binary = SimulateCommandTests.binary.path
        let (status, output) = try await offPool { try runProgram(Self.python, [script, binary, "18900"]) }
        #expect(status == 0, "\(output.suffix(6000))")
        for line in [
            "ok: server span 'GET /api/v2/abm/queue/stats' is a child of the incoming traceparent",
            "ok: a malformed traceparent starts a new trace; a 404 is not an error on its span",
            "run span linked to it (attempt 1) with phases job complete, job compute, job write result",
            "ok: the access log line carries the request's trace_id and span_id; no request header reached the log; a probe made no span",
            "links to the submitting request's span", "ok: receiver stopped: 50 requests answered 200",
            "ok: a request's span was exported by the shutdown",
            "ok: OTEL_EXPORTER_OTLP_PROTOCOL=grpc and http/json are refused at start (exit 78) with the reason", "PASS",
        ] {
            #expect(output.contains(line), "missing: \(line)")
        }
    }
}
}
