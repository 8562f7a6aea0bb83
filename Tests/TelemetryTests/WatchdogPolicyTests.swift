import Testing

@testable import Telemetry

@Suite struct WatchdogPolicyTests {
    let t0 = ContinuousClock.now

    @Test func pingsWhileLiveAndProgressing() {
        var p = WatchdogPolicy()
        #expect(p.decide(live: true, liveReason: nil, schedulerResponsive: true, lastLoopProgress: t0 + .seconds(1), previousPing: t0) == .ping)
    }

    @Test func aStalledLoopStopsThePings() {
        var p = WatchdogPolicy()
        let d = p.decide(live: true, liveReason: nil, schedulerResponsive: true, lastLoopProgress: t0, previousPing: t0 + .seconds(1))
        #expect(d == .skip("event loops made no progress since the last ping"))
    }

    @Test func aWedgedSchedulerStopsThePings() {
        var p = WatchdogPolicy()
        #expect(p.decide(live: true, liveReason: nil, schedulerResponsive: false, lastLoopProgress: t0 + .seconds(1), previousPing: t0)
            == .skip("job scheduler not responding"))
    }

    @Test func failingLivenessSkipsThenTriggers() {
        var p = WatchdogPolicy()
        let args = (lastLoopProgress: t0 + .seconds(1), previousPing: t0)
        for _ in 0..<2 {
            #expect(p.decide(live: false, liveReason: "event-loop:lag", schedulerResponsive: true, lastLoopProgress: args.0, previousPing: args.1)
                == .skip("liveness failing: event-loop:lag"))
        }
        #expect(p.decide(live: false, liveReason: "event-loop:lag", schedulerResponsive: true, lastLoopProgress: args.0, previousPing: args.1)
            == .trigger("liveness failing: event-loop:lag"))
        // Recovery resets the count.
        #expect(p.decide(live: true, liveReason: nil, schedulerResponsive: true, lastLoopProgress: args.0, previousPing: args.1) == .ping)
        #expect(p.decide(live: false, liveReason: "x", schedulerResponsive: true, lastLoopProgress: args.0, previousPing: args.1) == .skip("liveness failing: x"))
    }

    @Test func environmentFileParsing() {
        let values = EnvironmentFile.parse("# comment\nLOG_LEVEL = DEBUG\n; other\nABM_PORT=\"9000\"\nBAD LINE\nX='y z'\n")
        #expect(values == ["LOG_LEVEL": "DEBUG", "ABM_PORT": "9000", "X": "y z"])
    }
}
