import Simulation
import Testing

@Suite struct VestingScheduleTests {
    func months(_ tge: Double, _ c: Int, _ v: Int) -> [Double] {
        VestingSchedule(allocation: 120, tgePct: tge, cliff: c, vesting: v).unlocks(horizon: 7)
    }

    // Spec 13.2, "ABM (correct)" column.
    @Test func zeroCliffZeroTGEStartsVestingAtMonthZero() {
        #expect(months(0, 0, 3) == [40, 40, 40, 0, 0, 0, 0])
    }

    @Test func cliffDelaysTheFirstTranche() {
        #expect(months(0, 2, 3) == [0, 0, 40, 40, 40, 0, 0])
    }

    @Test func vestingZeroReleasesTheRemainderAtTheCliff() {
        #expect(months(0, 3, 0) == [0, 0, 0, 120, 0, 0, 0])
        #expect(months(0, 0, 0) == [120, 0, 0, 0, 0, 0, 0])
    }

    @Test func tgeFallsAtMonthZeroBeforeTheCliff() {
        #expect(months(50, 1, 2) == [60, 30, 30, 0, 0, 0, 0])
    }

    @Test func fullTGEUnlocksEverythingAtOnce() {
        #expect(months(100, 0, 0) == [120, 0, 0, 0, 0, 0, 0])
        #expect(months(100, 5, 12) == [120, 0, 0, 0, 0, 0, 0])
    }

    @Test func cliffBeyondTheHorizonUnlocksNothing() {
        #expect(months(0, 24, 12) == [0, 0, 0, 0, 0, 0, 0])
    }

    @Test func totalEqualsTheAllocationExactly() {
        for v in 1...48 {
            let s = VestingSchedule(allocation: 1_000_000.0 / 3, tgePct: 7.3, cliff: 5, vesting: v)
            #expect(s.cumulative(through: 5 + v - 1) == s.allocation)
            #expect(s.unlocks(horizon: 5 + v).reduce(0, +) == s.cumulative(through: 5 + v))
        }
    }

    @Test func cliffMonthIsTheFirstPostCliffTranche() {
        #expect(VestingSchedule(allocation: 1, tgePct: 0, cliff: 4, vesting: 2).cliffMonth == 4)
        #expect(VestingSchedule(allocation: 1, tgePct: 0, cliff: 0, vesting: 2).cliffMonth == nil)
    }
}

@Suite struct SimDateTests {
    @Test func addsCalendarMonthsClampingToMonthEnd() {
        let d = SimDate(year: 2026, month: 1, day: 31)!
        #expect(d.adding(months: 1).description == "2026-02-28")
        #expect(d.adding(months: 2).description == "2026-03-31")
        #expect(SimDate(year: 2024, month: 2, day: 29)!.adding(months: 12).description == "2025-02-28")
        #expect(d.adding(months: 240).description == "2046-01-31")
    }

    @Test func parsesOnlyRealISODates() throws {
        #expect(try SimDate.parse("2024-02-29").get().description == "2024-02-29")
        #expect(SimDate.parse("2023-02-29") == .failure(.dayOutOfRange))
        #expect(SimDate.parse("2023-13-01") == .failure(.monthOutOfRange))
        #expect(SimDate.parse("01/01/2026") == .failure(.format))
        #expect(SimDate.parse("2026-1-01") == .failure(.format))
    }
}
