import Foundation
import NIOCore
import NIOPosix

/// Faults the test suite injects into the real binary. Compiled into debug builds only: the release binary
/// that `scripts/run`, the systemd unit and the benchmarks use has no such code, so no setting can reach it
/// in production. `ABM_TEST_FAULTS` is a comma-separated list:
///   stall-event-loops:<after>:<seconds>  block every event loop for <seconds>, <after> seconds after start
///   delay-startup:<seconds>              report not ready (startup still running) for <seconds>
struct TestFaults {
    var stall: (after: Double, seconds: Double)?
    var startupDelay: Double = 0

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
                default: break
                }
            }
        #endif
        return f
    }

    /// Schedules the event-loop stall, if one was asked for.
    func arm(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        #if DEBUG
            guard let stall else { return }
            let loops = Array(group.makeIterator())
            DispatchQueue.global().asyncAfter(deadline: .now() + stall.after) {
                for loop in loops { loop.execute { Thread.sleep(forTimeInterval: stall.seconds) } }
            }
        #endif
    }
}
