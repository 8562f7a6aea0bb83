import Foundation
import Testing
import TestSupport

/// The shipped unit, checked by systemd's own tools (they work without systemd as PID 1).
@Suite struct SystemdUnitTests {
    static let root = SimulateCommandTests.root
    static var unitText: String { (try? String(contentsOf: root.appendingPathComponent("ops/systemd/abm.service"), encoding: .utf8)) ?? "" }

    static var analyzeAvailable: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze") }

    /// The unit with ExecStart pointing at the built binary (verify insists that it exists).
    static func localUnit() throws -> String {
        let dir = NSTemporaryDirectory() + "abm-unit-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/abm.service"
        try unitText.replacingOccurrences(of: "ExecStart=/usr/local/bin/abm serve", with: "ExecStart=\(SimulateCommandTests.binary.path) serve")
            .write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func analyze(_ args: [String]) throws -> (Int32, String) {
        try runProgram("/usr/bin/systemd-analyze", args)
    }

    @Test(.enabled(if: analyzeAvailable)) func verifyPrintsNothing() async throws {
        let (status, output) = try await offPool { try Self.analyze(["verify", "--man=no", try Self.localUnit()]) }
        #expect(status == 0)
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "systemd-analyze verify: \(output)")
    }

    @Test(.enabled(if: analyzeAvailable)) func exposureIsSafe() async throws {
        // --threshold is on the 0-100 scale: 9 means an exposure of at most 0.9 (SAFE is below 1.0).
        let (status, output) = try await offPool {
            try Self.analyze(["security", "--offline=yes", "--no-pager", "--threshold=9", try Self.localUnit()])
        }
        #expect(status == 0, "\(output.suffix(400))")
        #expect(output.contains("SAFE"))
    }

    @Test func unitMatchesTheServiceItRuns() throws {
        let unit = Self.unitText
        for line in ["Type=notify", "NotifyAccess=main", "ExecReload=/bin/kill -HUP $MAINPID", "Restart=on-failure", "DynamicUser=yes",
                     "StateDirectory=abm", "LogsDirectory=abm", "EnvironmentFile=-/etc/abm/abm.env", "Environment=ABM_ENV_FILE=/etc/abm/abm.env"] {
            #expect(unit.contains(line + "\n"), "missing \(line)")
        }
        // Stop timeout covers the service's own drain bound (ABM_SHUTDOWN_TIMEOUT_SECONDS, default 25).
        let stop = unit.split(separator: "\n").first { $0.hasPrefix("TimeoutStopSec=") }.flatMap { Int($0.dropFirst("TimeoutStopSec=".count)) } ?? 0
        #expect(stop > 25)
        // Every variable the example environment file sets is a documented setting.
        let env = try String(contentsOf: Self.root.appendingPathComponent("ops/systemd/abm.env"), encoding: .utf8)
        let example = try String(contentsOf: Self.root.appendingPathComponent(".env.example"), encoding: .utf8)
        for line in env.split(separator: "\n") where !line.hasPrefix("#") && line.contains("=") {
            let name = String(line.split(separator: "=")[0])
            #expect(example.contains("# \(name)="), "\(name) is not in .env.example")
        }
    }
}
