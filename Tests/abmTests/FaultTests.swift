import Foundation
import Testing
import TestSupport

/// Faults over the real binary and real files (scripts/fault-tests.sh holds the checks): SIGTERM under
/// load, a full log disk, a locked SQLite file and a read-only data directory. `kill -9` with jobs queued
/// and running is `ServeCommandTests.servesAndSurvivesKill9`; a stalled event loop stopping the watchdog is
/// `NotifyTests.extendAlertsInStatusRuleReloadAndStallStopsPings`.
extension RealProcessTests {
@Suite(.serialized) struct FaultTests {
    static var root: Bool { getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") }
    static var tools: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") }

    func run(_ fault: String, port: Int) async throws -> String {
        let script = SimulateCommandTests.root.appendingPathComponent("scripts/fault-tests.sh").path
        let binary = SimulateCommandTests.binary.path
        let (status, output) = try await offPool { try runProgram("/bin/bash", [script, binary, "\(port)", fault]) }
        let summary = output.split(separator: "\n").filter { $0.hasPrefix("ok:") || $0.hasPrefix("FAIL") || $0 == "PASS" }.joined(separator: "\n")
        #expect(status == 0, "\(fault):\n\(output.suffix(6000))")
        #expect(output.contains("\nPASS"), "\(summary)")
        return output
    }

    @Test(.enabled(if: tools, "needs curl"), .timeLimit(.minutes(2)))
    func sigtermUnderLoad() async throws {
        let out = try await run("sigterm-under-load", port: 18631)
        #expect(out.contains("ok: the requests in flight at SIGTERM completed with 200 and whole bodies"))
        #expect(out.contains("ok: STOPPING=1 within 1 s of SIGTERM"))
        #expect(out.contains("ok: readiness 200 before SIGTERM, 503 from"))
    }

    @Test(.enabled(if: root && tools, "needs root (a private mount namespace) and curl"), .timeLimit(.minutes(2)))
    func logDiskFull() async throws {
        let out = try await run("log-disk-full", port: 18632)
        #expect(out.contains("ok: 200 of 200 requests answered 200 with the log disk full"))
        #expect(out.contains("ok: the service's own AbmLogLinesDropped alert fires"))
        #expect(out.contains("ok: logging resumes once space is free"))
    }

    @Test(.enabled(if: tools, "needs curl"), .timeLimit(.minutes(2)))
    func sqliteLocked() async throws {
        let out = try await run("sqlite-locked", port: 18633)
        #expect(out.contains("database is locked"))
        #expect(out.contains("ok: liveness stays 200"))
        #expect(out.contains("ok: readiness recovers once the lock is released"))
    }

    @Test(.enabled(if: root && tools, "needs root (a private mount namespace) and curl"), .timeLimit(.minutes(2)))
    func sqliteReadOnly() async throws {
        let out = try await run("sqlite-read-only", port: 18634)
        #expect(out.contains("attempt to write a readonly database"))
        #expect(out.contains("ok: readiness recovers once the directory is writable"))
    }
}
}
