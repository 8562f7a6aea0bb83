import Foundation
import Testing
import TestSupport

/// Shipped logs end to end on loopback: the real binary logging to a private journald, Debian's
/// systemd-journal-upload sending over HTTPS with a client certificate, HAProxy (ops/journal-remote/haproxy.cfg)
/// checking it, systemd-journal-remote receiving. The checks are in scripts/journal-remote-e2e.sh.
extension RealProcessTests {
@Suite(.serialized) struct JournalRemoteTests {
    static var available: Bool {
        getuid() == 0
            && ["/lib/systemd/systemd-journal-remote", "/lib/systemd/systemd-journal-upload", "/usr/sbin/haproxy", "/usr/bin/openssl",
                "/lib/systemd/systemd-journald", "/usr/bin/unshare"].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @Test(.enabled(if: available, "needs root, systemd-journal-remote, haproxy and openssl (scripts/bootstrap installs them)"), .timeLimit(.minutes(2)))
    func aRequestsLogLineIsFoundOnTheLogHost() async throws {
        let script = SimulateCommandTests.root.appendingPathComponent("scripts/journal-remote-e2e.sh").path
        let binary = SimulateCommandTests.binary.path
        let (status, output) = try await offPool { try runProgram("/bin/bash", [script, binary, "18560"]) }
        #expect(status == 0, "\(output)")
        for line in [
            "ok: abm served a request with journald logging; an upload without a client certificate was refused",
            "ok: the request's log line arrived on the log host, found by REQUEST_ID",
            "ok: the received entry keeps its fields", "ok: the same line is found by TRACE_ID, with its REQUEST_ID and SPAN_ID",
            "ok: the second upload sent nothing twice", "PASS",
        ] {
            #expect(output.contains(line), "missing: \(line)")
        }
    }
}
}
