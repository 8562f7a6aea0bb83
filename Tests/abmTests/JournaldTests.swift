import Foundation
import Testing
import TestSupport

/// A real systemd-journald, started in a private mount namespace so the host's journal is untouched.
final class PrivateJournald: @unchecked Sendable {
    let process = Process()

    static var available: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/lib/systemd/systemd-journald")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare")
    }

    init() throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        process.arguments = [
            "--mount", "--propagation", "private", "--", "/bin/bash", "-c",
            """
            mount -t tmpfs tmpfs /run/systemd && mount -t tmpfs tmpfs /run/log && mkdir -p /var/log/journal && mount -t tmpfs tmpfs /var/log/journal
            mkdir -p /run/systemd/journald.conf.d
            printf '[Journal]\\nStorage=volatile\\nReadKMsg=no\\nRateLimitBurst=0\\n' > /run/systemd/journald.conf.d/ci.conf
            exec /lib/systemd/systemd-journald
            """,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<250 {
            if (try? run(["test", "-S", "/run/systemd/journal/socket"]).status) == 0 { return }
            usleep(20_000)
        }
        stop()
        throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "journald socket never appeared"])
    }

    /// Runs a command in journald's mount namespace.
    func run(_ args: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/nsenter")
        p.arguments = ["-t", String(process.processIdentifier), "-m", "--", "/usr/bin/env"] + environment.map { "\($0.key)=\($0.value)" } + args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func entries(_ match: String) throws -> [[String: Any]] {
        try run(["journalctl", match, "-o", "json", "--no-pager"]).output.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }
}

@Suite(.serialized) struct JournaldTests {
    @Test(.enabled(if: PrivateJournald.available, "needs root and systemd-journald"))
    func entriesCarryTheirFieldsAndPriority() async throws {
        try await offPool { try Self.fieldsAndPriority() }
    }

    static func fieldsAndPriority() throws {
        let journald = try PrivateJournald()
        defer { journald.stop() }
        let binary = SimulateCommandTests.binary.path
        let id = "req-" + UUID().uuidString.prefix(8)
        let r = try journald.run(
            [binary, "log-test", "--message", "journald check", "--field", "request_id=\(id)", "--field", "job_id=abm_0123456789ab",
             "--event", "ready", "--level", "warning"],
            environment: ["ABM_LOG_TARGET": "journald"])
        #expect(r.status == 0, "\(r.output)")
        var found: [[String: Any]] = []
        for _ in 0..<50 where found.isEmpty {
            found = try journald.entries("REQUEST_ID=\(id)")
            if found.isEmpty { usleep(50_000) }
        }
        let entry = try #require(found.first)
        #expect(entry["MESSAGE"] as? String == "journald check")
        #expect(entry["PRIORITY"] as? String == "4")
        #expect(entry["SYSLOG_IDENTIFIER"] as? String == "abm")
        #expect(entry["JOB_ID"] as? String == "abm_0123456789ab")
        #expect(entry["MESSAGE_ID"] as? String == "0b8e5d3c7a1f4e2b9d6c4a8e2f1b3d71")
        #expect((entry["CODE_FILE"] as? String)?.hasSuffix("LogTestCommand.swift") == true)
        #expect(Int(entry["CODE_LINE"] as? String ?? "") != nil)
        #expect(entry["CODE_FUNC"] as? String != nil)
        #expect(entry["_TRANSPORT"] as? String == "journal")
        // The same entry is found by its MESSAGE_ID and by priority.
        #expect(try journald.entries("MESSAGE_ID=0b8e5d3c7a1f4e2b9d6c4a8e2f1b3d71").count == 1)
        #expect(try journald.run(["journalctl", "-p", "warning", "-t", "abm", "-o", "cat", "--no-pager"]).output.contains("journald check"))
    }

    @Test(.enabled(if: PrivateJournald.available, "needs root and systemd-journald"))
    func autoPicksJournaldOnlyWhenStderrIsTheJournal() async throws {
        try await offPool { try Self.autoPicks() }
    }

    static func autoPicks() throws {
        let journald = try PrivateJournald()
        defer { journald.stop() }
        let binary = SimulateCommandTests.binary.path
        // JOURNAL_STREAM naming another device: auto stays on stderr.
        let r = try journald.run([binary, "log-test"], environment: ["ABM_LOG_TARGET": "auto", "JOURNAL_STREAM": "1:1"])
        #expect(r.output.contains("written to: stderr"))
        #expect(r.output.contains(#""msg":"log test""#))
    }
}
