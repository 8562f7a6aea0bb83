import Dispatch
import Foundation
import Testing
import TestSupport

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The real `abm serve` binary over loopback HTTP, with real SQLite files.
extension RealProcessTests {
@Suite(.serialized) struct ServeCommandTests {
    final class Server: @unchecked Sendable {
        let process = Process()
        let errPipe = Pipe()
        var port = 0
        let dataDir: String

        /// Starts the server and waits (off the concurrency pool) until it reports its port.
        static func start(dataDir: String, env: [String: String] = [:]) async throws -> Server {
            try await offPool { try Server(dataDir: dataDir, env: env) }
        }

        private init(dataDir: String, env: [String: String] = [:]) throws {
            self.dataDir = dataDir
            process.executableURL = SimulateCommandTests.binary
            process.arguments = ["serve", "--port", "0", "--data-dir", dataDir, "--log-level", "info"]
            var environment = ProcessInfo.processInfo.environment
            for (k, v) in env { environment[k] = v }
            process.environment = environment
            process.standardError = errPipe
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            // Read log lines until the listener reports its port; a server that never does is killed after 30 s,
            // which ends the read.
            let proc = process
            DispatchQueue.global().asyncAfter(deadline: .now() + 30) { if proc.isRunning && self.port == 0 { proc.terminate() } }
            var buffer = ""
            let deadline = Date().addingTimeInterval(30)
            while port == 0 && Date() < deadline {
                let data = errPipe.fileHandleForReading.availableData
                if data.isEmpty { break }
                buffer += String(decoding: data, as: UTF8.self)
                // Log lines are JSON; the listener announces itself ("msg":"listening") with its port.
                for line in buffer.split(separator: "\n") where line.contains(#""msg":"listening""#) {
                    if let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] {
                        port = Int("\(object["port"] ?? "")") ?? 0
                    }
                }
            }
            guard port > 0 else { throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "server did not start: \(buffer)"]) }
        }

        func request(_ method: String, _ path: String, body: String? = nil) async throws -> (Int, [String: Any]) {
            var r = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
            r.httpMethod = method
            if let body {
                r.httpBody = Data(body.utf8)
                r.setValue("application/json", forHTTPHeaderField: "Content-Type")
            }
            let (data, response) = try await URLSession.shared.data(for: r)
            let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
            return ((response as! HTTPURLResponse).statusCode, json)
        }

        func kill9() async throws {
            Foundation.kill(process.processIdentifier, SIGKILL)
            let p = process
            try await offPool { p.waitUntilExit() }
        }

        func terminate() async throws -> Int32 {
            process.terminate()
            let p = process
            return try await offPool {
                p.waitUntilExit()
                return p.terminationStatus
            }
        }

        /// For `defer`: stops the server without waiting.
        func stop() { if process.isRunning { process.terminate() } }
    }

    static func body(seed: Int, horizon: Int = 60, agents: Int = 1000) -> String {
        #"{"token": {"name": "S", "total_supply": 1000000000, "start_date": "2026-01-01", "horizon_months": \#(horizon)}, "buckets": [{"bucket": "Team", "allocation": 50, "tge_unlock_pct": 0, "cliff_months": 6, "vesting_months": 24}, {"bucket": "Community", "allocation": 50, "tge_unlock_pct": 10, "cliff_months": 0, "vesting_months": 36}], "abm": {"agents_per_cohort": \#(agents), "seed": \#(seed)}}"#
    }

    @Test func servesAndSurvivesKill9() async throws {
        let dir = NSTemporaryDirectory() + "abm-serve-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try await Server.start(dataDir: dir, env: ["ABM_MAX_CONCURRENT_JOBS": "1"])
        let (status, root) = try await first.request("GET", "/")
        #expect(status == 200 && root["message"] as? String == "Vesting Simulator API")
        var ids: [String] = []
        for seed in 1...6 {
            let (s, json) = try await first.request("POST", "/api/v2/abm/simulate", body: Self.body(seed: seed, horizon: 240))
            #expect(s == 200)
            ids.append(json["job_id"] as? String ?? "")
        }
        try await first.kill9()
        // Same data directory, new process: every accepted job completes, with the result a fresh sync run gives.
        let second = try await Server.start(dataDir: dir)
        defer { second.stop() }
        for (i, id) in ids.enumerated() {
            var state = ""
            for _ in 0..<3000 where state != "completed" {
                state = try await second.request("GET", "/api/v2/abm/jobs/\(id)/status").1["status"] as? String ?? ""
                if state != "completed" { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(state == "completed", "job \(id)")
            var (_, result) = try await second.request("GET", "/api/v2/abm/jobs/\(id)/results")
            var (_, sync) = try await second.request("POST", "/api/v2/abm/simulate-sync", body: Self.body(seed: i + 1, horizon: 240))
            result["execution_time_seconds"] = nil
            sync["execution_time_seconds"] = nil
            #expect(NSDictionary(dictionary: result).isEqual(to: sync), "job \(id) differs from a sync run")
        }
    }

    @Test func sigtermExitsCleanly() async throws {
        let dir = NSTemporaryDirectory() + "abm-serve-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try await Server.start(dataDir: dir)
        #expect(try await server.request("GET", "/api/v1/health/ready").0 == 200)
        let start = Date()
        #expect(try await server.terminate() == 0)
        #expect(Date().timeIntervalSince(start) < 25)
    }

    @Test func sighupReopensTheLogFile() async throws {
        let dir = NSTemporaryDirectory() + "abm-serve-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let log = dir + "/logs/abm.log"
        let server = try await Server.start(dataDir: dir + "/data", env: ["ABM_LOG_FILE": log])
        defer { server.stop() }
        _ = try await server.request("GET", "/")
        try await Task.sleep(for: .milliseconds(300))
        try FileManager.default.moveItem(atPath: log, toPath: log + ".old")
        kill(server.process.processIdentifier, SIGHUP)
        try await Task.sleep(for: .milliseconds(300))
        _ = try await server.request("GET", "/api/v1/health/live")
        try await Task.sleep(for: .milliseconds(400))
        #expect(server.process.isRunning)
        let old = String(decoding: FileManager.default.contents(atPath: log + ".old") ?? Data(), as: UTF8.self)
        let new = String(decoding: FileManager.default.contents(atPath: log) ?? Data(), as: UTF8.self)
        #expect(old.contains(#""route":"/""#))
        #expect(new.contains(#""route":"/api/v1/health/live""#))
        #expect(new.contains(#""event":"reload""#))
        let attrs = try FileManager.default.attributesOfItem(atPath: log)
        #expect((attrs[.posixPermissions] as? Int) == 0o640)
    }

    @Test func badConfigurationStopsWithAClearMessage() async throws {
        try await offPool { try Self.badConfiguration() }
    }

    static func badConfiguration() throws {
        let p = Process()
        p.executableURL = SimulateCommandTests.binary
        p.arguments = ["serve"]
        p.environment = ["ABM_PORT": "eighty", "LOG_LEVEL": "LOUD"]
        let err = Pipe()
        p.standardError = err
        try p.run()
        p.waitUntilExit()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus == 78)
        #expect(text.contains(#"ABM_PORT="eighty""#))
        #expect(text.contains(#"LOG_LEVEL="LOUD""#))
    }
}
}
