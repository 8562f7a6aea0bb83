import Simulation
import Testing

@Suite struct MonteCarloTests {
    static let twoBuckets = #"""
        {"token": {"name": "MC", "total_supply": 1000000, "start_date": "2026-01-01", "horizon_months": 6},
         "buckets": [{"bucket": "Team", "allocation": 40, "tge_unlock_pct": 10, "cliff_months": 1, "vesting_months": 4},
                     {"bucket": "Community", "allocation": 60, "tge_unlock_pct": 25, "cliff_months": 0, "vesting_months": 6}],
         "abm": {"pricing_model": "eoe", "agents_per_cohort": 20},
         "monte_carlo": {"num_trials": 20, "seed": 123}}
        """#

    func mc(_ text: String = twoBuckets, threads: Int = 0) throws -> MonteCarloResult {
        let r = try abmRequest(text)
        let settings = try #require(r.monteCarlo)
        return try MonteCarloEngine.run(r, settings: settings, seed: settings.seed ?? 1, maxConcurrency: threads)
    }

    @Test func resultHasEveryTrialBandAndMonth() throws {
        // Spec 11.3.1 and 11.2.2.
        let r = try mc()
        #expect(r.trials.count == 20)
        #expect(r.trials.map(\.trialIndex) == Array(0..<20))
        #expect(r.percentiles.map(\.percentile) == [10, 50, 90])
        #expect(r.meanMetrics.count == 6)
        #expect(r.summary.numTrials == 20)
        #expect(r.trials.allSatisfy { $0.globalMetrics.map(\.monthIndex) == Array(0..<6) && $0.finalPrice > 0 })
        #expect(Set(r.trials.map(\.seed)).count == 20)
    }

    @Test func bandsAreOrderedEveryMonth() throws {
        // Spec 11.3.2: P10 <= P50 <= P90, within min and max.
        let r = try mc()
        let (p10, p50, p90) = (r.percentiles[0], r.percentiles[1], r.percentiles[2])
        #expect(p10.finalPrice <= p50.finalPrice && p50.finalPrice <= p90.finalPrice)
        #expect(r.summary.p10FinalPrice >= r.summary.minFinalPrice && r.summary.p90FinalPrice <= r.summary.maxFinalPrice)
        for m in 0..<6 {
            let a = p10.globalMetrics[m], b = p50.globalMetrics[m], c = p90.globalMetrics[m]
            #expect(a.price <= b.price && b.price <= c.price)
            #expect(a.totalSold <= b.totalSold && b.totalSold <= c.totalSold)
            #expect(a.circulatingSupply <= b.circulatingSupply && b.circulatingSupply <= c.circulatingSupply)
            #expect(a.date == r.trials[0].globalMetrics[m].date)
        }
    }

    @Test func identicalWhateverTheNumberOfCores() throws {
        let one = try mc(threads: 1)
        let all = try mc(threads: 0)
        #expect(JSONWriter.bytes(one.json()) == JSONWriter.bytes(all.json()))
    }

    @Test func seedZeroIsASeedLikeAnyOther() throws {
        // D22.
        let text = Self.twoBuckets.replacingOccurrences(of: "\"seed\": 123", with: "\"seed\": 0")
        let r = try abmRequest(text)
        #expect(r.monteCarlo?.seed == 0)
        #expect(JSONWriter.bytes(try mc(text).json()) == JSONWriter.bytes(try mc(text).json()))
        #expect(try mc(text).seed == 0)
    }

    @Test func trialTotalSoldIsCumulative() throws {
        // D23.
        let r = try mc()
        for t in r.trials {
            #expect(close(t.totalSold, t.globalMetrics.reduce(0) { $0 + $1.totalSold }))
        }
        #expect(close(r.summary.meanTotalSold, r.trials.reduce(0) { $0 + $1.totalSold } / 20))
    }

    @Test func varianceLevelWidensTheBands() throws {
        // D7: variance_level has an effect.
        func spread(_ level: String) throws -> Double {
            let r = try mc(Self.twoBuckets.replacingOccurrences(of: "\"seed\": 123", with: "\"seed\": 5, \"variance_level\": \"\(level)\", \"num_trials\": 40"))
            return r.summary.stdTotalSold
        }
        #expect(try spread("low") < spread("high"))
    }

    @Test func customLevelsFollowTheirOrder() throws {
        let r = try mc(Self.twoBuckets.replacingOccurrences(of: "\"seed\": 123", with: "\"seed\": 1, \"confidence_levels\": [90, 5, 50]"))
        #expect(r.percentiles.map(\.percentile) == [90, 5, 50])
    }

    @Test(arguments: [10, 50, 100])
    func trialCounts(n: Int) throws {
        // Spec 11.3.5.
        let text = oneBucket(horizon: 12, abm: #""pricing_model": "constant""#)
            .replacingOccurrences(of: "\"abm\":", with: "\"monte_carlo\": {\"num_trials\": \(n), \"seed\": 42}, \"abm\":")
        #expect(try mc(text).trials.count == n)
    }

    @Test func stakingAndTreasuryTrialsStayPositive() throws {
        // Spec 11.3.3 and 11.3.4.
        for extra in [#""enable_staking": true, "staking_config": {"lockup_months": 3}"#, #""enable_treasury": true"#] {
            let text = oneBucket(horizon: 12, tge: 20, abm: extra)
                .replacingOccurrences(of: "\"abm\":", with: "\"monte_carlo\": {\"num_trials\": 15, \"seed\": 9}, \"abm\":")
            let r = try mc(text)
            #expect(r.trials.allSatisfy { $0.globalMetrics.count == 12 && $0.finalPrice > 0 })
        }
    }

    @Test func percentileIsNumpysLinearInterpolation() {
        #expect(Statistics.percentile([1, 2, 3, 4], 50) == 2.5)
        #expect(Statistics.percentile([10, 20], 10) == 11)
        #expect(Statistics.percentile([5], 90) == 5)
        #expect(abs(Statistics.std([1, 2, 3, 4]) - 1.118033988749895) < 1e-12)
        #expect(abs(Statistics.std([1, 2, 3, 4], ddof: 1) - 1.2909944487358056) < 1e-12)
    }

    @Test func trialSeedsDependOnlyOnTheBaseSeed() {
        #expect(MonteCarloEngine.trialSeeds(base: 42, count: 5) == MonteCarloEngine.trialSeeds(base: 42, count: 10).prefix(5).map { $0 })
        #expect(MonteCarloEngine.trialSeeds(base: 42, count: 100).allSatisfy { $0 < 1 << 31 })
    }
}
