import Foundation
import Testing
import TestSupport

/// The real `abm` binary, run as a user would run it.
@Suite struct SimulateCommandTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["ABM_BINARY"] { return URL(fileURLWithPath: path) }
        // The test bundle sits next to the executable in the build folder.
        let beside = Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("abm")
        if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
        return root.appendingPathComponent(".build/debug/abm")
    }

    struct Output: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    func abm(_ args: [String], stdin: String? = nil) async throws -> Output {
        try await offPool { try Self.runBlocking(args, stdin: stdin) }
    }

    static func runBlocking(_ args: [String], stdin: String? = nil) throws -> Output {
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        p.currentDirectoryURL = root
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = input
        try p.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Output(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    func json(_ s: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(s.utf8)) as? [String: Any])
    }

    @Test func simulatesAnExampleFile() async throws {
        let r = try await abm(["simulate", "examples/abm-small.json"])
        #expect(r.status == 0)
        let body = try json(r.stdout)
        #expect((body["global_metrics"] as? [Any])?.count == 12)
        #expect(body["seed"] as? Int == 42)
    }

    /// A full disk (or a closed pipe) on standard output is exit status 74 with a message, not a trap.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/dev/full"), "needs /dev/full"))
    func aFullOutputIsAnIOErrorExit() async throws {
        let binary = Self.binary.path
        let example = Self.root.appendingPathComponent("examples/abm-small.json").path
        let (status, output) = try await offPool {
            try runProgram("/bin/sh", ["-c", "'\(binary)' simulate '\(example)' > /dev/full"])
        }
        #expect(status == 74, "\(output)")
        #expect(output.contains("cannot write the result"))
    }

    @Test func readsStandardInputAndIsDeterministic() async throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent("examples/abm-small.json"), encoding: .utf8)
        let a = try await abm(["simulate", "-"], stdin: text)
        let b = try await abm(["simulate", "examples/abm-small.json"])
        func strip(_ s: String) -> String {
            s.replacingOccurrences(of: #""execution_time_seconds":[0-9.e-]+"#, with: "", options: .regularExpression)
        }
        #expect(a.status == 0)
        #expect(strip(a.stdout) == strip(b.stdout))
    }

    @Test func invalidInputListsEveryProblemAndExitsTwo() async throws {
        let r = try await abm(["simulate", "-"], stdin: #"{"token": {"name": "", "total_supply": -1}, "buckets": []}"#)
        #expect(r.status == 2)
        #expect(r.stdout.isEmpty)
        for path in ["token.name", "token.total_supply", "token.start_date", "token.horizon_months", "buckets"] {
            #expect(r.stderr.contains("  \(path): "), "missing \(path) in \(r.stderr)")
        }
        let garbage = try await abm(["simulate", "-"], stdin: "{not json")
        #expect(garbage.status == 2)
        #expect(garbage.stderr.contains("JSON decode error"))
        #expect(!garbage.stderr.contains("Fatal error"))
    }

    @Test func missingFileExitsOne() async throws {
        let r = try await abm(["simulate", "/nonexistent/request.json"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("cannot read"))
    }

    @Test func summaryIsHumanReadable() async throws {
        let r = try await abm(["simulate", "--summary", "examples/abm-small.json"])
        #expect(r.status == 0)
        #expect(r.stdout.hasPrefix("ABM simulation: 12 months, 100 agents in 2 cohorts, seed 42"))
        #expect(r.stdout.contains("final price"))
    }

    @Test func detectsV1Requests() async throws {
        let r = try await abm(["simulate", "examples/v1-tier1.json"])
        #expect(r.status == 0)
        let body = try json(r.stdout)
        #expect(body["status"] as? String == "success")
        let forced = try await abm(["simulate", "--v2", "examples/v1-tier1.json"])
        #expect(forced.status == 2)
    }

    @Test func runsMonteCarloWithProgress() async throws {
        let r = try await abm(["simulate", "--monte-carlo", "--progress", "examples/abm-monte-carlo.json"])
        #expect(r.status == 0)
        let body = try json(r.stdout)
        #expect((body["trials"] as? [Any])?.count == 50)
        #expect(r.stderr.contains("trial 50/50"))
    }

    @Test func seedOverrideIsEchoed() async throws {
        let r = try await abm(["simulate", "--seed", "9", "examples/abm-small.json"])
        #expect(try json(r.stdout)["seed"] as? Int == 9)
    }
}
