import Foundation
import Logging
import Simulation
import Telemetry

/// `abm-bench engine FILE [ITERATIONS]` and `abm-bench montecarlo FILE THREADS`: times the engine alone
/// (parse and validation excluded) and prints one JSON line with the figures and the peak resident memory.

func peakRSSMiB() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
        return kb / 1024
    }
    return 0
}

func load(_ path: String) -> ABMRequest {
    let data = FileManager.default.contents(atPath: path) ?? Data()
    switch ABMRequestDecoder.decode(bytes: Array(data)) {
    case .success(let r): return r
    case .failure(let f):
        try? FileHandle.standardError.write(contentsOf: Data("invalid request \(path):\n\(f.summary)\n".utf8))
        exit(2)
    }
}

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

let args = CommandLine.arguments
guard args.count >= 3 else {
    try? FileHandle.standardError.write(contentsOf: Data("usage: abm-bench engine FILE [ITERATIONS] | montecarlo FILE THREADS | log DIR LINES THREADS | alerting SERIES RULES | seed-jobs DIR COUNT\n".utf8))
    exit(64)
}
let clock = ContinuousClock()
var line: [String: Any] = ["file": PathString.lastComponent(of: args[2])]
if args[1] == "alerting" {
    // abm-bench alerting SERIES RULES
    var out = try AlertingBench.run(series: Int(args[2]) ?? 5000, rules: args.count > 3 ? Int(args[3]) ?? 100 : 100, evaluations: args.count > 4 ? Int(args[4]) ?? 50 : 50)
    out["peak_rss_mib"] = peakRSSMiB()
    print(String(decoding: try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys]), as: UTF8.self))
    exit(0)
}
if args[1] == "seed-jobs" {
    // abm-bench seed-jobs DIR COUNT
    var out = try await JobSeeder.run(directory: args[2], count: args.count > 3 ? Int(args[3]) ?? 1_000_000 : 1_000_000)
    out["peak_rss_mib"] = peakRSSMiB()
    print(String(decoding: try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys]), as: UTF8.self))
    exit(0)
}
if args[1] == "log" {
    // abm-bench log DIR LINES THREADS: JSON lines through the service's handler into a rotating file.
    let dir = args[2]
    let total = args.count > 3 ? Int(args[3]) ?? 1_000_000 : 1_000_000
    let threads = args.count > 4 ? Int(args[4]) ?? 2 : 2
    try? FileManager.default.removeItem(atPath: dir)
    let stats = LogStatistics()
    let writer = RotatingFileWriter(path: dir + "/abm.log", policy: RotationPolicy(maxBytes: 10 * 1024 * 1024, backups: 50), stats: stats)
    let handler = TelemetryLogHandler(label: "bench", sinks: [FileSink(writer: writer)], level: .init(.info), stats: stats)
    let start = clock.now
    DispatchQueue.concurrentPerform(iterations: threads) { t in
        let logger = Logger(label: "bench") { _ in handler }
        for i in 0..<(total / threads) {
            logger.info("request completed", metadata: ["request_id": "r\(t)-\(i)", "route": "/api/v2/abm/simulate-sync", "status": .stringConvertible(200), "duration_ms": .stringConvertible(0.42)])
        }
    }
    writer.close()
    let seconds = seconds(clock.now - start)
    line = ["case": "log", "lines": total, "threads": threads, "seconds": seconds, "lines_per_sec": Double(total) / seconds,
            "rotations": stats.rotations, "dropped": stats.dropped, "peak_rss_mib": peakRSSMiB()]
    print(String(decoding: try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys]), as: UTF8.self))
    exit(0)
}
let request = load(args[2])
switch args[1] {
case "engine":
    let iterations = args.count > 3 ? Int(args[3]) ?? 5 : 5
    var times: [Double] = []
    var agents = 0
    for _ in 0..<iterations {
        let start = clock.now
        let result = try ABMSimulation.run(request)
        times.append(seconds(clock.now - start))
        agents = result.numAgents
    }
    times.sort()
    let months = request.token.horizonMonths
    line["agents"] = agents
    line["months"] = months
    line["iterations"] = iterations
    line["best_ms"] = times[0] * 1000
    line["median_ms"] = times[times.count / 2] * 1000
    line["agent_months_per_sec"] = Double(agents * months) / times[times.count / 2]
case "montecarlo":
    let threads = Int(args[3]) ?? 0
    guard let settings = request.monteCarlo else { exit(2) }
    let start = clock.now
    let result = try MonteCarloEngine.run(request, settings: settings, seed: settings.seed ?? 1, maxConcurrency: threads)
    line["trials"] = result.trials.count
    line["threads"] = threads == 0 ? ProcessInfo.processInfo.activeProcessorCount : threads
    line["seconds"] = seconds(clock.now - start)
    line["output_sha"] = JSONWriter.bytes(result.json()).reduce(into: UInt64(1469598103934665603)) { h, b in
        h = (h ^ UInt64(b)) &* 1099511628211
    }
default:
    exit(64)
}
line["peak_rss_mib"] = peakRSSMiB()
let data = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
print(String(decoding: data, as: UTF8.self))
