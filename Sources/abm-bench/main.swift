import Foundation
import Simulation

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
        FileHandle.standardError.write(Data("invalid request \(path):\n\(f.summary)\n".utf8))
        exit(2)
    }
}

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

let args = CommandLine.arguments
guard args.count >= 3 else {
    FileHandle.standardError.write(Data("usage: abm-bench engine FILE [ITERATIONS] | montecarlo FILE THREADS\n".utf8))
    exit(64)
}
let clock = ContinuousClock()
let request = load(args[2])
var line: [String: Any] = ["file": (args[2] as NSString).lastPathComponent]
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
