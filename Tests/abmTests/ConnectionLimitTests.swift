import Foundation
import Testing
import TestSupport

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Connection timeouts, stalled readers and cancellation of synchronous work, against the real binary over
/// real sockets (Python's socket module plays the misbehaving clients).
extension RealProcessTests {
    @Suite(.serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), "needs python3"))
    struct ConnectionLimitTests {
        typealias Server = ServeCommandTests.Server

        /// A v1 tier-3 Monte Carlo of 1000 buckets x 240 months x `trials`: about 14 s of both cores in a
        /// release build at 1000 trials, far longer than any wait below.
        static let pythonLongV1 = #"""
            import json, socket, sys, time
            def v1(trials, horizon=240, buckets=1000, tier="tier3"):
                b = [{"bucket": "B%d" % i, "allocation": 0.1, "tge_unlock_pct": 5, "cliff_months": 3, "vesting_months": 24} for i in range(buckets)]
                c = {"token": {"name": "V", "total_supply": 1000000, "start_date": "2026-01-01", "horizon_months": horizon, "simulation_mode": tier, "allocation_mode": "percent"}, "buckets": b}
                if trials:
                    c["tier3"] = {"monte_carlo": {"enabled": True, "num_trials": trials}}
                return json.dumps({"config": c}).encode()
            def post(port, path, body, timeout=60):
                s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
                s.sendall(b"POST " + path + b" HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
                return s
            def status(s):
                data = b""
                while b"\r\n" not in data:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                return data.split(b"\r\n", 1)[0].decode(errors="replace")
            """#

        func metric(_ server: Server, _ prefix: String) async throws -> Double {
            var r = URLRequest(url: URL(string: "http://127.0.0.1:\(server.port)/metrics")!)
            r.httpMethod = "GET"
            let (data, _) = try await URLSession.shared.data(for: r)
            let text = String(decoding: data, as: UTF8.self)
            return text.split(separator: "\n").filter { $0.hasPrefix(prefix) }
                .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
        }

        /// Idle connections, heads that never finish, uploads that stop and readers that stop reading are
        /// closed after their timeouts; a stalled reader's simulation slot is freed.
        @Test func slowAndStalledClientsAreClosed() async throws {
            let dir = NSTemporaryDirectory() + "abm-conn-" + UUID().uuidString
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let server = try await Server.start(
                dataDir: dir,
                env: [
                    "RATE_LIMIT_ENABLED": "false", "ABM_MAX_SYNC_SIMULATIONS": "1", "ABM_IDLE_TIMEOUT_SECONDS": "2",
                    "ABM_REQUEST_HEAD_TIMEOUT_SECONDS": "1", "ABM_BODY_TIMEOUT_SECONDS": "1", "ABM_WRITE_TIMEOUT_SECONDS": "2",
                ])
            defer { server.stop() }
            let script = Self.pythonLongV1 + "\n" + #"""
                port = int(sys.argv[1])
                def until_closed(s, limit=20):
                    start = time.time()
                    s.settimeout(limit)
                    try:
                        while s.recv(65536):
                            pass
                    except ConnectionResetError:
                        pass
                    return time.time() - start
                s = socket.create_connection(("127.0.0.1", port))
                print("idle %.2f" % until_closed(s))
                s = socket.create_connection(("127.0.0.1", port))
                s.sendall(b"GET /health/live HTTP/1.1\r\nHost: t\r\nX-Slow: ")
                start = time.time()
                s.settimeout(0.3)
                closed = None
                for _ in range(60):
                    try:
                        s.sendall(b"a")
                        if s.recv(1) == b"":
                            closed = time.time() - start
                            break
                    except socket.timeout:
                        continue
                    except (BrokenPipeError, ConnectionResetError):
                        closed = time.time() - start
                        break
                print("head %.2f" % (closed if closed is not None else 99))
                s = socket.create_connection(("127.0.0.1", port))
                s.sendall(b"POST /api/v2/abm/validate HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
                print("body %.2f" % until_closed(s))
                # A reader that stops: a 65 MB tier-1 result, nothing read for 6 s, then everything that is left.
                s = post(port, b"/api/v1/simulate", v1(0, tier="tier1"))
                time.sleep(6)
                got = 0
                s.settimeout(10)
                try:
                    while True:
                        chunk = s.recv(1 << 20)
                        if not chunk:
                            break
                        got += len(chunk)
                except (ConnectionResetError, socket.timeout):
                    pass
                print("stalled %d" % got)
                s = post(port, b"/api/v1/simulate", v1(0, horizon=12, buckets=2, tier="tier1"), timeout=10)
                start = time.time()
                print("after %s %.2f" % (status(s), time.time() - start))
                """#
            let port = server.port
            let (_, out) = try await offPool { try runProgram("/usr/bin/python3", ["-c", script, "\(port)"]) }
            var figures: [String: Double] = [:]
            for line in out.split(separator: "\n") {
                let parts = line.split(separator: " ")
                if parts.count >= 2, let v = Double(parts.last!) { figures[String(parts[0])] = v }
            }
            #expect((1.5...8).contains(figures["idle"] ?? -1), "\(out)")
            #expect((0.5...6).contains(figures["head"] ?? -1), "\(out)")
            #expect((0.5...6).contains(figures["body"] ?? -1), "\(out)")
            // The whole result is about 65 MB; the stalled reader got a small part of it before the close.
            #expect((figures["stalled"] ?? .infinity) < 30_000_000, "\(out)")
            #expect(out.contains("after HTTP/1.1 200"), "\(out)")
            #expect((figures["after"] ?? 99) < 10, "\(out)")
            for reason in ["idle", "head", "body", "write"] {
                #expect(try await metric(server, "abm_http_connections_closed_total{reason=\"\(reason)\"}") >= 1, "\(reason)")
            }
            #expect(try await server.request("GET", "/health/live").0 == 200)
            #expect(try await server.terminate() == 0)
        }

        /// A client that disconnects stops its simulation at once: the only slot is free again for the next
        /// request, long before the abandoned run would have ended.
        @Test func disconnectStopsSyncWork() async throws {
            let dir = NSTemporaryDirectory() + "abm-conn-" + UUID().uuidString
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let server = try await Server.start(dataDir: dir, env: ["RATE_LIMIT_ENABLED": "false", "ABM_MAX_SYNC_SIMULATIONS": "1"])
            defer { server.stop() }
            let script = Self.pythonLongV1 + "\n" + #"""
                port = int(sys.argv[1])
                s = post(port, b"/api/v1/simulate", v1(1000))
                time.sleep(1.5)
                s.close()
                start = time.time()
                s = post(port, b"/api/v1/simulate", v1(0, horizon=12, buckets=2, tier="tier1"), timeout=60)
                print("next %s %.2f" % (status(s), time.time() - start))
                """#
            let port = server.port
            let (_, out) = try await offPool { try runProgram("/usr/bin/python3", ["-c", script, "\(port)"]) }
            #expect(out.contains("next HTTP/1.1 200"), "\(out)")
            let waited = out.split(separator: " ").last.flatMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 99
            #expect(waited < 5, "\(out)")
            // The abandoned request is logged and counted as 499, not as a server error.
            #expect(try await metric(server, "abm_http_requests_total{method=\"POST\",route=\"/api/v1/simulate\",status=\"499\"}") == 1)
            #expect(try await metric(server, "abm_errors_total") == 0)
            #expect(try await server.terminate() == 0)
        }

        /// SIGTERM during a long synchronous simulation: the request gets a 503, the process exits 0 well
        /// within the shutdown timeout (it used to die of SIGILL, "Cancellation took longer than allowed").
        @Test func sigtermStopsSyncWorkWith503() async throws {
            let dir = NSTemporaryDirectory() + "abm-conn-" + UUID().uuidString
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let server = try await Server.start(dataDir: dir, env: ["RATE_LIMIT_ENABLED": "false", "ABM_MAX_SYNC_SIMULATIONS": "1"])
            defer { server.stop() }
            let script = Self.pythonLongV1 + "\n" + #"""
                import os, signal
                port, pid = int(sys.argv[1]), int(sys.argv[2])
                running = post(port, b"/api/v1/simulate", v1(1000))
                waiting = post(port, b"/api/v1/simulate", v1(1000))
                time.sleep(1.5)
                start = time.time()
                os.kill(pid, signal.SIGTERM)
                print("running", status(running))
                print("waiting", status(waiting))
                print("answered %.2f" % (time.time() - start))
                """#
            let port = server.port
            let pid = server.process.processIdentifier
            let (_, out) = try await offPool { try runProgram("/usr/bin/python3", ["-c", script, "\(port)", "\(pid)"]) }
            let start = Date()
            let status = try await offPool {
                server.process.waitUntilExit()
                return server.process.terminationStatus
            }
            #expect(status == 0, "\(out)")
            #expect(Date().timeIntervalSince(start) < 15)
            #expect(out.contains("running HTTP/1.1 503"), "\(out)")
            #expect(out.contains("waiting HTTP/1.1 503"), "\(out)")
        }

        /// SIGTERM while an SSE stream follows a long job and Alertmanager never answers: the stream ends
        /// with a `shutdown` event, delivery does not hold the exit, and the process exits 0 within the
        /// drain delay plus a few seconds (the evaluator sleeps 15 s and delivery retries for up to 15 s).
        @Test func shutdownEndsStreamsAndDeliveryAtOnce() async throws {
            // A listener that never accepts: connections complete in the backlog and nothing ever answers.
            let blackhole = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(blackhole) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(blackhole, $0, length) == 0 && listen(blackhole, 16) == 0 && getsockname(blackhole, $0, &length) == 0 }
            }
            try #require(bound)
            let amPort = Int(UInt16(bigEndian: address.sin_port))
            let dir = NSTemporaryDirectory() + "abm-conn-" + UUID().uuidString
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let server = try await Server.start(
                dataDir: dir,
                env: [
                    "RATE_LIMIT_ENABLED": "false", "ABM_ALERTMANAGER_URL": "http://127.0.0.1:\(amPort)", "ABM_ALERT_EVAL_INTERVAL": "15s",
                    "ABM_ALERT_RESEND_INTERVAL": "1s",
                ])
            defer { server.stop() }
            let script = #"""
                import json, socket, sys, time, os, signal
                port, pid = int(sys.argv[1]), int(sys.argv[2])
                buckets = [{"bucket": "B%d" % i, "allocation": 0.1, "tge_unlock_pct": 5, "cliff_months": 3, "vesting_months": 24} for i in range(1000)]
                body = json.dumps({"token": {"name": "L", "total_supply": 1e9, "start_date": "2026-01-01", "horizon_months": 240}, "buckets": buckets, "abm": {"agents_per_cohort": 1000, "store_cohort_details": False}, "monte_carlo": {"num_trials": 10}}).encode()
                s = socket.create_connection(("127.0.0.1", port), timeout=30)
                s.sendall(b"POST /api/v2/abm/monte-carlo/simulate HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
                reply = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    reply += chunk
                job = json.loads(reply.split(b"\r\n\r\n", 1)[1])["job_id"]
                sse = socket.create_connection(("127.0.0.1", port), timeout=30)
                sse.sendall(("GET /api/v2/abm/jobs/%s/stream HTTP/1.1\r\nHost: t\r\n\r\n" % job).encode())
                time.sleep(3)
                start = time.time()
                os.kill(pid, signal.SIGTERM)
                stream = b""
                try:
                    while True:
                        chunk = sse.recv(65536)
                        if not chunk:
                            break
                        stream += chunk
                except socket.timeout:
                    pass
                print("ended %.2f" % (time.time() - start))
                print("last", [l for l in stream.decode(errors="replace").split("\n") if l.startswith("data:")][-1])
                """#
            let port = server.port
            let pid = server.process.processIdentifier
            let start = Date()
            let (_, out) = try await offPool { try runProgram("/usr/bin/python3", ["-c", script, "\(port)", "\(pid)"]) }
            let status = try await offPool {
                server.process.waitUntilExit()
                return server.process.terminationStatus
            }
            #expect(status == 0, "\(out)")
            #expect(out.contains(#""type":"shutdown""#), "\(out)")
            let ended = out.split(separator: "\n").first { $0.hasPrefix("ended ") }.flatMap { Double($0.dropFirst(6)) } ?? 99
            #expect(ended < 8, "\(out)")
            #expect(Date().timeIntervalSince(start) < 30)
        }
    }
}
