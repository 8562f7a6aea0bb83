import Foundation
import NIOCore
import NIOPosix

/// Faults the test suite injects into the real binary. Compiled into debug builds only: the release binary
/// that `scripts/run`, the systemd unit and the benchmarks use has no such code, so no setting can reach it
/// in production. `ABM_TEST_FAULTS` is a comma-separated list:
///   stall-event-loops:<after>:<seconds>  block every event loop for <seconds>, <after> seconds after start
///   delay-startup:<seconds>              report not ready (startup still running) for <seconds>
///   crash-on-sigusr2                     trap (a real crash, as a failed precondition) on SIGUSR2
struct TestFaults {
    var stall: (after: Double, seconds: Double)?
    var startupDelay: Double = 0
    var crashOnSignal = false

    static func fromEnvironment() -> TestFaults {
        var f = TestFaults()
        #if DEBUG
            for item in (ProcessInfo.processInfo.environment["ABM_TEST_FAULTS"] ?? "").split(separator: ",") {
                let parts = item.split(separator: ":").map(String.init)
                switch parts.first {
                case "stall-event-loops" where parts.count == 3:
                    if let a = Double(parts[1]), let s = Double(parts[2]) { f.stall = (a, s) }
                case "delay-startup" where parts.count == 2:
                    f.startupDelay = Double(parts[1]) ?? 0
                case "crash-on-sigusr2":
                    f.crashOnSignal = true
                default: break
                }
            }
        #endif
        return f
    }

    /// Schedules the event-loop stall, if one was asked for.
    func arm(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        #if DEBUG
            if crashOnSignal {
                signal(SIGUSR2, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: SIGUSR2, queue: .global())
                source.setEventHandler { Self.crash() }
                source.resume()
                Self.keep.append(source)
            }
            guard let stall else { return }
            let loops = Array(group.makeIterator())
            DispatchQueue.global().asyncAfter(deadline: .now() + stall.after) {
                for loop in loops { loop.execute { Thread.sleep(forTimeInterval: stall.seconds) } }
            }
        #endif
    }

    #if DEBUG
        nonisolated(unsafe) static var keep: [any DispatchSourceSignal] = []

        /// A crash the way a defect crashes: a trap in Swift code, which the runtime's backtracer reports.
        static func crash() {
            let limits: [Int] = []
            let index = Int(ProcessInfo.processInfo.processIdentifier)
            print(limits[index])
        }
    #endif
}
