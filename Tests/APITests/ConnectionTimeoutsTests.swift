import NIOCore
import Testing

@testable import API

/// The per-connection deadlines as a state machine over given times.
@Suite struct ConnectionTimeoutsTests {
    let limits = ConnectionTimeouts.Limits(idle: .seconds(60), head: .seconds(10), body: .seconds(30), write: .seconds(20))
    let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    func at(_ s: Int64) -> NIODeadline { t0 + .seconds(s) }

    @Test func idleThenHeadThenBody() {
        var c = ConnectionTimeouts(limits: limits, now: t0)
        #expect(c.deadline?.at == at(60) && c.deadline?.reason == .idle)
        #expect(c.expired(now: at(59)) == nil && c.expired(now: at(60)) == .idle)
        // The first byte of a head: the whole head is due 10 s later, however early in the idle period.
        c.bytesRead(now: at(5))
        #expect(c.deadline?.at == at(15) && c.deadline?.reason == .head)
        c.bytesRead(now: at(9))
        #expect(c.deadline?.at == at(15))
        c.requestHead(now: at(12))
        #expect(c.deadline?.at == at(42) && c.deadline?.reason == .body)
        c.bytesRead(now: at(40))
        #expect(c.deadline?.at == at(70))
        c.requestEnd()
        // Handling: no deadline while the work runs.
        #expect(c.deadline == nil)
        c.responseEnd(now: at(100))
        #expect(c.deadline?.at == at(160) && c.deadline?.reason == .idle)
    }

    @Test func aReaderThatStopsHasAWriteDeadlineInAnyPhase() {
        var c = ConnectionTimeouts(limits: limits, now: t0)
        c.requestHead(now: at(1))
        c.requestEnd()
        c.writability(false, now: at(2))
        #expect(c.deadline?.at == at(22) && c.deadline?.reason == .write)
        // Staying unwritable does not move the deadline; progress (writable again) clears it.
        c.writability(false, now: at(10))
        #expect(c.deadline?.at == at(22))
        c.writability(true, now: at(15))
        #expect(c.deadline == nil)
    }

    @Test func aPipelinedRequestKeepsItsPhaseWhenTheEarlierResponseEnds() {
        var c = ConnectionTimeouts(limits: limits, now: t0)
        c.requestHead(now: at(1))
        c.requestEnd()
        c.requestHead(now: at(2))
        c.responseEnd(now: at(3))
        #expect(c.phase == .body(lastProgress: at(2)))
    }
}
