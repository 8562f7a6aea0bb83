import Dispatch
import Foundation
#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
import Synchronization
import Testing
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A service manager's end of sd_notify: a real unix datagram socket (a path, or an abstract name).
final class NotifySocket: @unchecked Sendable {
    let fd: Int32
    let address: String
    private let messages = Mutex<[(Date, String)]>([])
    private let reader = DispatchQueue(label: "notify-reader")

    init(abstract: Bool) throws {
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        let name = "abm-notify-\(UUID().uuidString.prefix(8))"
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let pathBytes: [UInt8]
        if abstract {
            address = "@" + name
            pathBytes = [0] + Array(name.utf8)
        } else {
            address = NSTemporaryDirectory() + name + ".sock"
            pathBytes = Array(address.utf8)
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in pathBytes.enumerated() { raw[i] = b }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + pathBytes.count)
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard rc == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "bind failed: \(errno)"]) }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        reader.async { [self] in
            var buf = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = recv(fd, &buf, buf.count, 0)
                if n > 0 { messages.withLock { $0.append((Date(), String(decoding: buf[0..<n], as: UTF8.self))) } }
                if n < 0 && errno != EAGAIN && errno != EINTR { return }
            }
        }
    }

    var all: [(Date, String)] { messages.withLock { $0 } }

    func waitFor(_ predicate: (String) -> Bool, timeout: TimeInterval = 30) -> (Date, String)? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let m = all.first(where: { predicate($0.1) }) { return m }
            usleep(20_000)
        }
        return nil
    }

    deinit {
        close(fd)
        if !address.hasPrefix("@") { unlink(address) }
    }
}

/// sd_notify from the real binary, over a real socket.
extension RealProcessTests {
@Suite(.serialized) struct NotifyTests {
    @Test(arguments: [false, true])
    func readinessStatusWatchdogReloadAndStop(abstract: Bool) async throws {
        try await offPool { try Self.lifecycle(abstract: abstract) }
    }

    static func lifecycle(abstract: Bool) throws {
        let sock = try NotifySocket(abstract: abstract)
        let dir = NSTemporaryDirectory() + "abm-notify-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let envFile = dir + "/abm.env"
        try "LOG_LEVEL=INFO\n".write(toFile: envFile, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = SimulateCommandTests.binary
        p.arguments = ["serve", "--port", "0", "--data-dir", dir + "/data"]
        var env = ProcessInfo.processInfo.environment
        env["NOTIFY_SOCKET"] = sock.address
        env["WATCHDOG_USEC"] = "400000"
        env["ABM_ENV_FILE"] = envFile
        env["ABM_LOG_FILE"] = dir + "/abm.log"
        p.environment = env
        p.standardError = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        defer { if p.isRunning { p.terminate() } }

        // READY=1 arrives, and by then the port accepts connections.
        let ready = try #require(sock.waitFor { $0.contains("READY=1") })
        #expect(ready.1.contains("STATUS=serving"))
        let log = try String(contentsOfFile: dir + "/abm.log", encoding: .utf8)
        let listening = try #require(log.split(separator: "\n").first { $0.contains(#""msg":"listening""#) })
        let port = try #require(Int((try JSONSerialization.jsonObject(with: Data(listening.utf8)) as? [String: Any])?["port"] as? String ?? ""))
        #expect(Self.canConnect(port: port))
        // STATUS follows the load: a running job shows up in it.
        let buckets = (0..<1000).map { #"{"bucket": "B\#($0)", "allocation": 0.1, "tge_unlock_pct": 5, "cliff_months": 0, "vesting_months": 24}"# }
        let big = #"{"token": {"name": "M", "total_supply": 1e10, "start_date": "2026-01-01", "horizon_months": 120}, "buckets": [\#(buckets.joined(separator: ","))], "abm": {"agent_granularity": "meta_agents", "agents_per_cohort": 1000}}"#
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/v2/abm/simulate")!)
        request.httpMethod = "POST"
        request.httpBody = Data(big.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let submitted = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { _, _, _ in submitted.signal() }.resume()
        _ = submitted.wait(timeout: .now() + 30)
        #expect(sock.waitFor { $0.contains("STATUS=serving; jobs: 1 running") } != nil)
        // Watchdog pings at a quarter of WATCHDOG_USEC.
        usleep(1_300_000)
        let pings = sock.all.filter { $0.1.contains("WATCHDOG=1") }
        #expect(pings.count >= 3, "\(pings.count) pings")
        // SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1 again; a new log level from the env file applies.
        try "LOG_LEVEL=DEBUG\n".write(toFile: envFile, atomically: true, encoding: .utf8)
        kill(p.processIdentifier, SIGHUP)
        let reloading = try #require(sock.waitFor { $0.contains("RELOADING=1") })
        #expect(reloading.1.contains("MONOTONIC_USEC="))
        #expect(sock.waitFor { m in m.contains("READY=1") && sock.all.firstIndex { $0.1 == m }! > sock.all.firstIndex { $0.1.contains("RELOADING=1") }! } != nil)
        // SIGTERM: STOPPING=1, then a clean exit.
        p.terminate()
        #expect(sock.waitFor { $0.contains("STOPPING=1") } != nil)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let after = try String(contentsOfFile: dir + "/abm.log", encoding: .utf8)
        #expect(after.contains(#""msg":"reload: log level applied""#))
        #expect(after.contains(#""level":"debug""#))
    }

    /// A slow startup sends EXTEND_TIMEOUT_USEC before READY; the status line names the firing critical
    /// alerts; SIGHUP re-reads the rule files (an invalid set is refused and logged); a stall of the event
    /// loops (a debug-build fault, ABM_TEST_FAULTS) stops the watchdog pings until the loops move again.
    @Test func extendAlertsInStatusRuleReloadAndStallStopsPings() async throws {
        try await offPool { try Self.faults() }
    }

    static func faults() throws {
        let sock = try NotifySocket(abstract: false)
        let dir = NSTemporaryDirectory() + "abm-faults-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let rules = dir + "/rules.yml"
        func writeRules(_ name: String) throws {
            try "groups:\n  - name: t\n    interval: 1s\n    rules:\n      - alert: \(name)\n        expr: vector(1)\n        labels: {severity: critical}\n"
                .write(toFile: rules, atomically: true, encoding: .utf8)
        }
        try writeRules("AlwaysCritical")
        let p = Process()
        p.executableURL = SimulateCommandTests.binary
        p.arguments = ["serve", "--port", "0", "--data-dir", dir + "/data"]
        var env = ProcessInfo.processInfo.environment
        env["NOTIFY_SOCKET"] = sock.address
        env["WATCHDOG_USEC"] = "1000000"
        env["ABM_LOG_FILE"] = dir + "/abm.log"
        env["ABM_ALERT_RULES"] = rules
        env["ABM_ALERT_EVAL_INTERVAL"] = "1s"
        env["ABM_TEST_FAULTS"] = "delay-startup:6,stall-event-loops:12:3"
        p.environment = env
        p.standardError = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        let started = Date()
        try p.run()
        defer { if p.isRunning { p.terminate() } }

        // Startup takes 6 s: systemd is asked for more time before READY=1.
        let extend = try #require(sock.waitFor { $0.contains("EXTEND_TIMEOUT_USEC=") })
        #expect(extend.1.contains("STATUS=starting"))
        let ready = try #require(sock.waitFor { $0.contains("READY=1") })
        #expect(ready.0.timeIntervalSince(started) >= 5.5)
        #expect(sock.all.filter { $0.1.contains("EXTEND_TIMEOUT_USEC=") }.count >= 2, "extended again while still starting")
        // The firing critical alert is in the status line.
        #expect(sock.waitFor({ $0.contains("STATUS=") && $0.contains("alerts firing: AlwaysCritical") }, timeout: 10) != nil)
        // SIGHUP re-reads the rules: the renamed alert replaces the old one in the status line.
        try writeRules("RenamedCritical")
        kill(p.processIdentifier, SIGHUP)
        #expect(sock.waitFor({ $0.contains("alerts firing: RenamedCritical") }, timeout: 10) != nil)
        // An invalid rule file is refused; the rules in force stay.
        try "groups:\n  - name: t\n    rules:\n      - alert: Bad\n        expr: topk(1, up)\n".write(toFile: rules, atomically: true, encoding: .utf8)
        kill(p.processIdentifier, SIGHUP)
        usleep(1_500_000)
        let log = try String(contentsOfFile: dir + "/abm.log", encoding: .utf8)
        #expect(log.contains("reload: invalid alert rules kept the current rules"))
        #expect(log.contains(#""msg":"alert RenamedCritical firing""#))
        // The event loops stall for 3 s about 12 s after start: the pings stop, then resume.
        let stallEnds = started.addingTimeInterval(15)
        while Date() < stallEnds.addingTimeInterval(2) { usleep(100_000) }
        let pings = sock.all.filter { $0.1.contains("WATCHDOG=1") }.map(\.0)
        let gaps = zip(pings, pings.dropFirst()).map { $1.timeIntervalSince($0) }
        #expect((gaps.max() ?? 0) >= 2.4, "longest gap between pings \(gaps.max() ?? 0) s")
        #expect(pings.last.map { $0 > stallEnds } == true, "pings resume after the stall")
        let after = try String(contentsOfFile: dir + "/abm.log", encoding: .utf8)
        #expect(after.contains(#""msg":"watchdog ping skipped""#))
        p.terminate()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }

    static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr = in_addr(s_addr: inet_addr("127.0.0.1"))
        return withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
    }
}
}
