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
        /// `directory`: the server's working directory (this process's when nil).
        static func start(dataDir: String, env: [String: String] = [:], directory: String? = nil) async throws -> Server {
            try await offPool { try Server(dataDir: dataDir, env: env, directory: directory) }
        }

        private init(dataDir: String, env: [String: String] = [:], directory: String?) throws {
            self.dataDir = dataDir
            process.executableURL = SimulateCommandTests.binary
            if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
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

    /// A one-character data directory name, relative to the working directory (Foundation's path APIs trap
    /// on some of these on Linux). The server runs in a folder of its own: changing this test process's
    /// working directory would move every other test's child processes with it.
    @Test func aOneCharacterDataDirectoryWorks() async throws {
        let dir = NSTemporaryDirectory() + "abm-serve-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try await Server.start(dataDir: "x", directory: dir)
        let (status, json) = try await server.request("POST", "/api/v2/abm/simulate", body: Self.body(seed: 1, horizon: 12))
        #expect(status == 200 && json["job_id"] is String)
        #expect(try await server.terminate() == 0)
        #expect(FileManager.default.fileExists(atPath: dir + "/x/jobs.sqlite3"))
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

    /// `curl` from a chosen loopback source address: how several clients are told apart over real HTTP.
    func curl(_ server: Server, from address: String, _ method: String, _ path: String, body: String? = nil) async throws -> (Int, String, String) {
        var args = ["-s", "--interface", address, "-X", method, "-D", "-", "http://127.0.0.1:\(server.port)\(path)"]
        if let body { args += ["-H", "Content-Type: application/json", "--data", body] }
        let argv = args
        let (_, out) = try await offPool { try runProgram("/usr/bin/curl", argv) }
        let parts = out.components(separatedBy: "\r\n\r\n")
        let head = parts.first ?? ""
        let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        return (status, head, parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    /// Jobs in the store over real HTTP: a per-client quota that lets other clients in, pages by cursor,
    /// cancel of a running job.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/curl"), "needs curl"))
    func quotaPagingAndCancelOverRealHTTP() async throws {
        let dir = NSTemporaryDirectory() + "abm-serve-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try await Server.start(
            dataDir: dir,
            env: [
                "ABM_MAX_CONCURRENT_JOBS": "1", "ABM_MAX_QUEUED_JOBS_PER_CLIENT": "3", "RATE_LIMIT_ENABLED": "false",
                // The study below is deliberately far over the default work budget.
                "ABM_MAX_WORK_UNITS": "1000000000000",
            ])
        defer { server.stop() }
        // A long Monte Carlo study holds the only worker, so the next submissions wait in the queue.
        let buckets = (0..<50).map { #"{"bucket": "B\#($0)", "allocation": 2, "tge_unlock_pct": 0, "cliff_months": 6, "vesting_months": 24}"# }
        let long = #"{"token": {"name": "L", "total_supply": 1000000000, "start_date": "2026-01-01", "horizon_months": 240}, "buckets": [\#(buckets.joined(separator: ","))], "abm": {"agents_per_cohort": 1000}, "monte_carlo": {"num_trials": 1000}}"#
        let (s0, _, b0) = try await curl(server, from: "127.0.0.1", "POST", "/api/v2/abm/monte-carlo/simulate", body: long)
        #expect(s0 == 200)
        let mcID = try #require((try JSONSerialization.jsonObject(with: Data(b0.utf8)) as? [String: Any])?["job_id"] as? String)
        var heavy: [Int] = []
        var refusal = ""
        for i in 0..<4 {
            let (s, head, body) = try await curl(server, from: "127.0.0.2", "POST", "/api/v2/abm/simulate", body: Self.body(seed: 100 + i, horizon: 12, agents: 10))
            heavy.append(s)
            if s == 429 { refusal = head + body }
        }
        #expect(heavy == [200, 200, 200, 429])
        #expect(refusal.contains("Retry-After: 5") || refusal.contains("retry-after: 5"))
        #expect(refusal.contains("Too many queued jobs from this client (3 of 3 allowed)"))
        // Another client still gets in.
        #expect(try await curl(server, from: "127.0.0.3", "POST", "/api/v2/abm/simulate", body: Self.body(seed: 200, horizon: 12, agents: 10)).0 == 200)
        // Five jobs, two per page.
        var ids: [String] = []
        var cursor: String?
        repeat {
            let path = "/api/v2/abm/jobs?limit=2" + (cursor.map { "&cursor=\($0)" } ?? "")
            let (_, json) = try await server.request("GET", path)
            ids += (json["jobs"] as? [[String: Any]] ?? []).compactMap { $0["job_id"] as? String }
            cursor = json["next_cursor"] as? String
        } while cursor != nil && ids.count < 20
        #expect(ids.count == 5 && ids.first == mcID && Set(ids).count == 5)
        // Cancel the study where it runs; the queued jobs then run and finish.
        #expect(try await server.request("DELETE", "/api/v2/abm/jobs/\(mcID)").0 == 200)
        let deadline = Date().addingTimeInterval(60)
        var stats: [String: Any] = [:]
        repeat {
            try await Task.sleep(for: .milliseconds(50))
            stats = (try await server.request("GET", "/api/v2/abm/queue/stats").1["status_counts"] as? [String: Any]) ?? [:]
        } while (stats["completed"] as? Int ?? 0) < 4 && Date() < deadline
        #expect(stats["completed"] as? Int == 4 && stats["cancelled"] as? Int == 1 && stats["pending"] as? Int == 0)
        #expect(try await server.terminate() == 0)
    }

    /// `Expect: 100-continue` gets an interim 100 at once (curl waits a second for it before a large upload).
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/curl"), "needs curl"))
    func expectContinueIsAnswered() async throws {
        let dir = NSTemporaryDirectory() + "abm-serve-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try await Server.start(dataDir: dir, env: ["RATE_LIMIT_ENABLED": "false"])
        defer { server.stop() }
        let url = "http://127.0.0.1:\(server.port)/api/v2/abm/simulate-sync"
        let body = Self.body(seed: 1, horizon: 12, agents: 10)
        let (_, out) = try await offPool {
            try runProgram("/usr/bin/curl", ["-sv", "-H", "Expect: 100-continue", "-H", "Content-Type: application/json", "--data", body, url])
        }
        #expect(out.contains("HTTP/1.1 100 Continue"), "\(out.prefix(2000))")
        #expect(out.contains("HTTP/1.1 200 OK"))
        #expect(out.contains("\"global_metrics\""))
        // Over the size limit: still the 413, after the 100.
        let big = String(repeating: " ", count: 11 * 1024 * 1024)
        let file = dir + "/big.json"
        try big.write(toFile: file, atomically: true, encoding: .utf8)
        let (_, refused) = try await offPool {
            try runProgram("/usr/bin/curl", ["-sv", "-H", "Expect: 100-continue", "-H", "Content-Type: application/json", "--data-binary", "@" + file, url])
        }
        #expect(refused.contains("HTTP/1.1 413"), "\(refused.prefix(2000))")
        #expect(try await server.terminate() == 0)
    }

    /// A client that breaks off its upload or frames it wrongly gets a 400 (or a close), never a 500, and
    /// nothing is counted as a server error.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), "needs python3"))
    func brokenUploadsAreClientErrors() async throws {
        let dir = NSTemporaryDirectory() + "abm-serve-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try await Server.start(dataDir: dir, env: ["RATE_LIMIT_ENABLED": "false"])
        defer { server.stop() }
        let script = #"""
            import socket, sys
            port = int(sys.argv[1])
            def send(head, body, half_close):
                s = socket.create_connection(("127.0.0.1", port), timeout=3)
                s.sendall(head + body)
                if half_close:
                    s.shutdown(socket.SHUT_WR)
                data = b""
                try:
                    while True:
                        chunk = s.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                except Exception:
                    pass
                s.close()
                return data.split(b"\r\n", 1)[0].decode(errors="replace")
            path = b"/api/v2/abm/simulate-sync"
            bad = send(b"POST " + path + b" HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n", b"zz\r\n{}\r\n0\r\n\r\n", False)
            cut = send(b"POST " + path + b" HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n", b'{"token": {', True)
            print("bad-chunk:", bad)
            print("cut-short:", cut)
            """#
        let port = server.port
        let (_, out) = try await offPool { try runProgram("/usr/bin/python3", ["-c", script, "\(port)"]) }
        #expect(out.contains("bad-chunk:") && out.contains("cut-short:"), "\(out)")
        #expect(!out.contains(" 500"), "\(out)")
        for line in out.split(separator: "\n") where line.hasPrefix("bad-chunk:") || line.hasPrefix("cut-short:") {
            let status = line.split(separator: ":", maxSplits: 1).last.map { String($0).trimmingCharacters(in: .whitespaces) } ?? ""
            #expect(status.isEmpty || status.hasPrefix("HTTP/1.1 400"), "\(line)")
        }
        // The service is fine, and counted no server error.
        #expect(try await server.request("GET", "/health/ready").0 == 200)
        var metrics = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/metrics")!)
        metrics.httpMethod = "GET"
        let (data, _) = try await URLSession.shared.data(for: metrics)
        let text = String(decoding: data, as: UTF8.self)
        #expect(!text.contains(#"status="500""#))
        #expect(!text.split(separator: "\n").contains { $0.hasPrefix("abm_errors_total{") && !$0.hasSuffix(" 0") && !$0.hasSuffix(" 0.0") })
        #expect(try await server.terminate() == 0)
    }

    /// Every metric an alert rule, a runbook or the dashboard names is on the first scrape of a fresh, ready
    /// process, so alert expressions and dashboard panels never depend on traffic having happened.
    @Test func everyNamedMetricIsOnTheFirstScrape() async throws {
        let dir = NSTemporaryDirectory() + "abm-serve-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try await Server.start(dataDir: dir)
        defer { server.stop() }
        // Ready first, as a scraped service is (on a loaded machine the store may still be opening).
        let deadline = Date().addingTimeInterval(30)
        while try await server.request("GET", "/health/ready").0 != 200 && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        var r = URLRequest(url: URL(string: "http://127.0.0.1:\(server.port)/metrics")!)
        r.httpMethod = "GET"
        let (data, _) = try await URLSession.shared.data(for: r)
        let families = Set(String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { line -> String? in
            line.hasPrefix("# TYPE ") ? String(line.split(separator: " ")[2]) : nil
        })
        let root = SimulateCommandTests.root
        var files = [root.appendingPathComponent("alerts/abm.rules.yml"), root.appendingPathComponent("ops/grafana/abm-service.json")]
        let runbooks = root.appendingPathComponent("runbooks")
        files += try FileManager.default.contentsOfDirectory(atPath: runbooks.path).filter { $0.hasSuffix(".md") }.map { runbooks.appendingPathComponent($0) }
        let pattern = try Regex(#"abm_[a-z0-9_]+"#)
        var named: [String: String] = [:]
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            for m in text.matches(of: pattern) {
                var name = String(text[m.range])
                for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) && !families.contains(name) { name.removeLast(suffix.count) }
                named[name] = file.lastPathComponent
            }
        }
        #expect(named.count >= 15)
        // The notification session exists only over PostgreSQL (scripts/cluster-tests.py checks these on
        // the first scrape of a postgres-backed instance); an embedded store does not expose them at all.
        let postgresOnly: Set = ["abm_job_notify_connected", "abm_job_notify_reconnects_total", "abm_job_notify_errors_total"]
        #expect(postgresOnly.isSubset(of: named.keys) && postgresOnly.isDisjoint(with: families))
        let missing = named.filter { !families.contains($0.key) && !postgresOnly.contains($0.key) }.map { "\($0.key) (in \($0.value))" }.sorted()
        #expect(missing.isEmpty, "not on the first scrape: \(missing)")
        #expect(try await server.terminate() == 0)
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
        _ = try await server.request("GET", "/openapi.json")
        try await Task.sleep(for: .milliseconds(400))
        #expect(server.process.isRunning)
        let old = String(decoding: FileManager.default.contents(atPath: log + ".old") ?? Data(), as: UTF8.self)
        let new = String(decoding: FileManager.default.contents(atPath: log) ?? Data(), as: UTF8.self)
        #expect(old.contains(#""route":"/""#))
        #expect(new.contains(#""route":"/openapi.json""#))
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
