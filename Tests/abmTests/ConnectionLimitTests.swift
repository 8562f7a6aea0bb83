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
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
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
    }
}
