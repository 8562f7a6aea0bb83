import Foundation
import Testing

/// The shipped unit under a real systemd (systemd-nspawn): readiness, status, journal fields, watchdog
/// restart, reload and stop. The checks are in scripts/systemd-e2e.sh; this runs it on the built binary.
@Suite(.serialized) struct SystemdE2ETests {
    static var available: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-nspawn")
    }

    @Test(.enabled(if: available, "needs root and systemd-nspawn"), .timeLimit(.minutes(3)))
    func unitRunsUnderRealSystemd() async throws {
        let script = SimulateCommandTests.root.appendingPathComponent("scripts/systemd-e2e.sh").path
        let binary = SimulateCommandTests.binary.path
        let (status, output) = try await offPool { () throws -> (Int32, String) in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/bash")
            p.arguments = [script, binary, "18491"]
            let out = Pipe()
            p.standardOutput = out
            p.standardError = out
            try p.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            return (p.terminationStatus, text)
        }
        #expect(status == 0, "\(output)")
        #expect(output.contains("systemd e2e: all checks passed"))
    }
}
