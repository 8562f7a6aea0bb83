import Foundation
import Testing
import TestSupport

/// The shipped unit under a real systemd (systemd-nspawn): readiness, status, journal fields, watchdog
/// restart, reload and stop. The checks are in scripts/systemd-e2e.sh; this runs it on the built binary.
extension RealProcessTests {
@Suite(.serialized) struct SystemdE2ETests {
    static var available: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-nspawn")
    }

    @Test(.enabled(if: available, "needs root and systemd-nspawn"), .timeLimit(.minutes(3)))
    func unitRunsUnderRealSystemd() async throws {
        let script = SimulateCommandTests.root.appendingPathComponent("scripts/systemd-e2e.sh").path
        let binary = SimulateCommandTests.binary.path
        let (status, output) = try await offPool { try runProgram("/bin/bash", [script, binary, "18491"]) }
        #expect(status == 0, "\(output)")
        #expect(output.contains("ok: a crash (a trap) under the hardened unit -> JSON crash report"))
        #expect(output.contains("systemd e2e: all checks passed"))
    }
}
}
