import Simulation
import Testing

/// The v1 simulator: the original's API-level engine tests (spec 11.9) and the corrections D5, D29, D30, D33.
@Suite struct V1EngineTests {
    static func config(
        tier: String = "tier1", horizon: Int = 12, supply: String = "1000000", mode: String = "percent",
        buckets: String = #"[{"bucket": "Team", "allocation": 60, "tge_unlock_pct": 0, "cliff_months": 3, "vesting_months": 6}, {"bucket": "Public", "allocation": 40, "tge_unlock_pct": 25, "cliff_months": 0, "vesting_months": 4}]"#,
        extra: String = ""
    ) -> String {
        #"{"config": {"token": {"name": "V", "total_supply": \#(supply), "start_date": "2026-01-31", "horizon_months": \#(horizon), "simulation_mode": "\#(tier)", "allocation_mode": "\#(mode)"}, "buckets": \#(buckets)\#(extra)}}"#
    }

    func decode(_ text: String) throws -> V1Config {
        switch V1ConfigDecoder.decode(bytes: Array(text.utf8)) {
        case .success(let c): return c
        case .failure(let f):
            Issue.record("invalid: \(f.summary)")
            throw f
        }
    }

    func issues(_ text: String) -> [ValidationIssue] {
        if case .failure(let f) = V1ConfigDecoder.decode(bytes: Array(text.utf8)) { return f.issues }
        return []
    }

    func run(_ text: String) throws -> V1Result { try V1Engine.run(try decode(text)) }

    @Test func tier1HasHorizonPlusOneRowsWithCalendarDates() throws {
        // Spec 11.9.3, 11.9.14, 11.9.16; D34.
        let r = try run(Self.config())
        #expect(r.globalMetrics.count == 13)
        #expect(r.bucketResults.count == 26)
        #expect(r.globalMetrics.prefix(3).map(\.date.description) == ["2026-01-31", "2026-02-28", "2026-03-31"])
        #expect(try run(Self.config(horizon: 0)).globalMetrics.count == 1)
        #expect(try run(Self.config(horizon: 120)).globalMetrics.count == 121)
        #expect(r.summaryCards.circ12Pct != nil && r.summaryCards.circ24Pct == nil)
    }

    @Test func bucketUnlocksAddUpToTheGlobalTotal() throws {
        // Spec 11.9.18 and 11.9.19.
        let r = try run(Self.config(horizon: 36))
        for g in r.globalMetrics {
            let sum = r.bucketResults.filter { $0.monthIndex == g.monthIndex }.reduce(0) { $0 + $1.unlockedThisMonth }
            #expect(abs(sum - g.totalUnlocked) < 0.01)
        }
        let final = r.bucketResults.filter { $0.monthIndex == 36 }.reduce(0) { $0 + $1.unlockedCumulative }
        #expect(abs(final - 1_000_000) < 1e-6)
    }

    @Test func usesTheSameUnlockConventionAsTheABMEngine() throws {
        // D5: tranches at c..c+v-1, remainder at c when v = 0.
        let r = try run(Self.config(buckets: #"[{"bucket": "A", "allocation": 100, "tge_unlock_pct": 0, "cliff_months": 2, "vesting_months": 2}]"#))
        #expect(r.globalMetrics.prefix(5).map(\.totalUnlocked) == [0, 0, 500_000, 500_000, 0])
        let cliffOnly = try run(Self.config(buckets: #"[{"bucket": "A", "allocation": 100, "tge_unlock_pct": 0, "cliff_months": 3, "vesting_months": 0}]"#))
        #expect(cliffOnly.globalMetrics[3].totalUnlocked == 1_000_000)
    }

    @Test func zeroSupplyUnlocksNothing() throws {
        // Spec 11.9.13.
        let r = try run(Self.config(supply: "0", buckets: #"[{"bucket": "A", "allocation": 100, "tge_unlock_pct": 100, "cliff_months": 0, "vesting_months": 0}]"#))
        #expect(r.globalMetrics.allSatisfy { $0.totalUnlocked == 0 && $0.expectedCirculatingPct == 0 })
    }

    @Test func tokensModeUsesAbsoluteAllocations() throws {
        // Spec 11.9.15.
        let r = try run(Self.config(supply: "1000000000000", mode: "tokens", buckets: #"[{"bucket": "A", "allocation": 1000000000000, "tge_unlock_pct": 10, "cliff_months": 0, "vesting_months": 12}]"#))
        #expect(r.summaryCards.maxUnlockTokens > 0)
        #expect(r.bucketResults[0].allocationTokens == 1e12)
    }

    @Test func circulatingPercentIsAFractionInEveryTier() throws {
        // D29: the same units in tier 1 and tier 2; summary cards are percentages.
        for tier in ["tier1", "tier2"] {
            let r = try run(Self.config(tier: tier, horizon: 24))
            let last = r.globalMetrics.last!
            #expect(last.expectedCirculatingPct <= 1)
            #expect(close(r.summaryCards.circEndPct, last.expectedCirculatingPct * 100))
            #expect(close(last.expectedCirculatingPct, last.expectedCirculatingTotal / 1_000_000))
        }
    }

    @Test func tier2WithEveryFeature() throws {
        // Spec 11.9.4.
        let r = try run(Self.config(
            tier: "tier2", horizon: 24,
            buckets: #"[{"bucket": "Team", "allocation": 30, "tge_unlock_pct": 0, "cliff_months": 1, "vesting_months": 3}, {"bucket": "Treasury", "allocation": 40, "tge_unlock_pct": 10, "cliff_months": 0, "vesting_months": 4}, {"bucket": "Liquidity", "allocation": 30, "tge_unlock_pct": 100, "cliff_months": 0, "vesting_months": 0}]"#,
            extra: #", "tier2": {"staking": {"enabled": true, "apy": 0.15, "max_capacity_pct": 0.2, "lockup_months": 2}, "pricing": {"enabled": true, "pricing_model": "bonding_curve", "bonding_curve_param": 0.5}, "treasury": {"enabled": true, "hold_pct": 0.3, "liquidity_pct": 0.5, "buyback_pct": 0.2}, "volume": {"enabled": true}}"#))
        let row0 = r.globalMetrics[0]
        // D30: real zeros are 0.0, never null.
        #expect(row0.currentPrice != nil && row0.stakedAmount != nil && row0.liquidityDeployed != nil && row0.treasuryBalance != nil)
        #expect(r.globalMetrics.allSatisfy { ($0.currentPrice ?? 0) > 0 })
        #expect(r.globalMetrics.allSatisfy { ($0.stakedAmount ?? 0) <= 200_000 * (1 + 1e-12) })
        #expect(r.globalMetrics.contains { ($0.stakedAmount ?? 0) > 0 })
        #expect(r.bucketResults.filter { $0.bucket == "Treasury" }.allSatisfy { $0.expectedSellThisMonth == 0 })
        #expect(r.globalMetrics.reduce(0) { $0 + ($1.liquidityDeployed ?? 0) } > 0)
        let json = r.dataJSON
        #expect(json["global_metrics"]?.arrayValue?[0]["staked_amount"] != .null)
    }

    @Test func tier3MonteCarloKeepsRowsAndFillsBands() throws {
        // Spec 11.9.5.
        let r = try run(Self.config(tier: "tier3", extra: #", "tier3": {"monte_carlo": {"enabled": true, "num_trials": 10, "seed": 42}}"#))
        #expect(r.globalMetrics.count == 13)
        for g in r.globalMetrics {
            let band = try #require(g.totalUnlockedBand)
            #expect(band.p10 <= band.median && band.median <= band.p90)
        }
        // Deterministic: the same seed gives the same bands; another seed changes them (D29: seed honoured).
        let again = try run(Self.config(tier: "tier3", extra: #", "tier3": {"monte_carlo": {"enabled": true, "num_trials": 10, "seed": 42}}"#))
        #expect(again == r)
        let other = try run(Self.config(tier: "tier3", extra: #", "tier3": {"monte_carlo": {"enabled": true, "num_trials": 10, "seed": 7}}"#))
        #expect(other.globalMetrics != r.globalMetrics)
    }

    @Test func tier3CohortBehaviourApplies() throws {
        // D29: the original never applied it.
        let base = Self.config(tier: "tier3")
        let withCohorts = Self.config(tier: "tier3", extra: #", "tier3": {"cohort_behavior": {"enabled": true, "bucket_cohort_mapping": {"Team": "high_sell", "Public": "high_sell"}}}"#)
        #expect(try run(withCohorts).summaryCards.maxSellTokens > run(base).summaryCards.maxSellTokens)
        #expect(!issues(Self.config(tier: "tier3", extra: #", "tier3": {"cohort_behavior": {"enabled": true, "bucket_cohort_mapping": {"Team": "nope"}}}"#)).isEmpty)
    }

    @Test func relockDelaysButConservesTokens() throws {
        let r = try run(Self.config(horizon: 24, extra: #", "behaviors": {"relock": {"enabled": true, "relock_pct": 0.5, "lock_duration_months": 2}}"#))
        let plain = try run(Self.config(horizon: 24))
        #expect(r.globalMetrics.map(\.totalUnlocked) == plain.globalMetrics.map(\.totalUnlocked))
        #expect(r.globalMetrics[4].totalExpectedSell != plain.globalMetrics[4].totalExpectedSell)
        #expect(close(r.globalMetrics.last!.expectedCirculatingTotal, plain.globalMetrics.last!.expectedCirculatingTotal, rel: 1e-9))
    }

    @Test func cliffShockAndTriggersUseInclusiveRules() throws {
        // D3/D5: the shock lands on the first post-cliff tranche (month c). D33: thresholds are inclusive.
        let r = try run(Self.config(extra: #", "behaviors": {"cliff_shock": {"enabled": true, "multiplier": 3, "buckets": ["Team"]}}"#))
        let team = r.bucketResults.filter { $0.bucket == "Team" }
        #expect(team[3].sellPressureEffective == 0.75)
        #expect(team[4].sellPressureEffective == 0.25)
        let csv = try run(Self.config(extra: #", "behaviors": {"price_trigger": {"enabled": true, "source": "csv", "take_profit": 0.5, "uploaded_price_series": [[2, 1.5], [4, 1.2]]}}"#))
        let pub = csv.bucketResults.filter { $0.bucket == "Public" }
        #expect(pub[1].sellPressureEffective == 0.25)
        #expect(pub[2].sellPressureEffective == 0.45)
        #expect(pub[3].sellPressureEffective == 0.45)
        #expect(pub[4].sellPressureEffective == 0.25)
    }

    @Test func sellVolumeRatioIsMonthlyInEveryTier() throws {
        let r = try run(Self.config(extra: #", "assumptions": {"sell_pressure_level": "medium", "avg_daily_volume_tokens": 1000}"#))
        let g = r.globalMetrics[0]
        #expect(close(g.sellVolumeRatio!, g.totalExpectedSell / 30_000))
        #expect(try run(Self.config()).globalMetrics[0].sellVolumeRatio == nil)
    }

    @Test func schemaErrorsAreReportedWithPaths() {
        // Spec 11.9.8 to 11.9.12, 11.9.17, 11.9.20.
        #expect(Set(issues(#"{"config": {"token": {"name": "x"}, "buckets": []}}"#).map(\.fieldPath)) == ["config.token.total_supply", "config.token.start_date", "config.token.horizon_months", "config.buckets"])
        let date = issues(Self.config().replacingOccurrences(of: "2026-01-31", with: "01/01/2026"))
        #expect(date.map(\.type) == ["string_pattern_mismatch"])
        let feb30 = issues(Self.config().replacingOccurrences(of: "2026-01-31", with: "2020-02-30"))
        #expect(feb30.map(\.msg) == ["Value error, day is out of range for month"])
        let negative = issues(Self.config(supply: "-1", buckets: #"[{"bucket": "A", "allocation": 10, "tge_unlock_pct": -5, "cliff_months": -1, "vesting_months": 0}]"#))
        #expect(Set(negative.map(\.fieldPath)) == ["config.token.total_supply", "config.buckets[0].tge_unlock_pct", "config.buckets[0].cliff_months"])
        #expect(issues("{}").map(\.fieldPath) == ["config"])
        #expect(issues(#"{"config": {}}"#).map(\.fieldPath) == ["config.token", "config.buckets"])
        let empty = issues(Self.config(buckets: "[]"))
        #expect(empty.map(\.type) == ["too_short"])
        #expect(empty.first?.fieldPath == "config.buckets")
        let over = issues(Self.config(buckets: #"[{"bucket": "A", "allocation": 60, "tge_unlock_pct": 0, "cliff_months": 0, "vesting_months": 0}, {"bucket": "B", "allocation": 60, "tge_unlock_pct": 0, "cliff_months": 0, "vesting_months": 0}]"#))
        #expect(over.map(\.msg) == ["Value error, Allocation sum (120.0%) exceeds 100%"])
        let tokens = issues(Self.config(mode: "tokens", buckets: #"[{"bucket": "A", "allocation": 2000000, "tge_unlock_pct": 0, "cliff_months": 0, "vesting_months": 0}]"#))
        #expect(tokens.map(\.msg) == ["Value error, Allocation sum (2,000,000) exceeds total supply (1,000,000)"])
        let treasury = issues(Self.config(tier: "tier2", extra: #", "tier2": {"treasury": {"hold_pct": 0.5, "liquidity_pct": 0.5, "buyback_pct": 0.5}}"#))
        #expect(treasury.map(\.msg) == ["Value error, Treasury percentages must sum to 1.0, got 1.5"])
    }
}

@Suite struct V1ValidatorTests {
    func validate(_ text: String) throws -> V1Validator.Report {
        V1Validator.validate(try #require(try JSONParser.parse(text).objectValue))
    }

    @Test func validConfigHasNoErrors() throws {
        let r = try validate(#"{"token": {"total_supply": 1000, "horizon_months": 12, "start_date": "2026-01-01"}, "buckets": [{"bucket": "A", "allocation": 100, "tge_unlock_pct": 0, "cliff_months": 0, "vesting_months": 12}]}"#)
        #expect(r.valid && r.errors.isEmpty && r.warnings.isEmpty)
    }

    @Test func overAllocationIsAnError() throws {
        // Spec 11.9.7.
        let r = try validate(#"{"token": {"total_supply": 1000, "horizon_months": 12, "start_date": "2026-01-01"}, "buckets": [{"bucket": "A", "allocation": 60, "tge_unlock_pct": 0, "cliff_months": 0, "vesting_months": 1}, {"bucket": "B", "allocation": 60, "tge_unlock_pct": 0, "cliff_months": 0, "vesting_months": 1}]}"#)
        #expect(!r.valid)
        #expect(r.errors == ["Allocation sum (120.0%) exceeds 100%"])
    }

    @Test func collectsWarningsInTheOriginalOrderAndEveryError() throws {
        let r = try validate(#"""
            {"token": {"allocation_mode": "x"}, "buckets": [{"bucket": "A", "allocation": -1, "tge_unlock_pct": 120}],
             "assumptions": {"sell_pressure_level": "extreme", "avg_daily_volume_tokens": -5},
             "behaviors": {"cliff_shock": {"enabled": true, "multiplier": 0.5, "buckets": ["Z"]},
                           "price_trigger": {"enabled": true, "source": "csv"},
                           "relock": {"enabled": true, "relock_pct": 2, "lock_duration_months": -1}}}
            """#)
        #expect(r.warnings == [
            "total_supply should be positive", "horizon_months should be positive", "start_date must be in YYYY-MM-DD format",
            "Bucket 0: Missing required field 'cliff_months'", "Bucket 0: Missing required field 'vesting_months'",
            "Bucket 'A': allocation cannot be negative", "Bucket 'A': tge_unlock_pct must be between 0 and 100",
            "Cliff shock bucket 'Z' not found in bucket list",
        ])
        #expect(r.errors == [
            "allocation_mode must be 'percent' or 'tokens'", "sell_pressure_level must be one of: ['low', 'medium', 'high']",
            "avg_daily_volume_tokens cannot be negative", "cliff_shock multiplier must be >= 1.0",
            "price_trigger source is 'csv' but no uploaded_price_series provided", "relock_pct must be between 0 and 1.0",
            "lock_duration_months cannot be negative",
        ])
    }

    @Test func missingTokenAndWrongTypes() throws {
        #expect(try validate("{}").errors == ["Missing 'token' section in config"])
        let r = try validate(#"{"token": {"total_supply": "lots"}, "buckets": [{"bucket": "A", "allocation": "x", "tge_unlock_pct": 0, "cliff_months": 0, "vesting_months": 0}]}"#)
        #expect(r.errors.contains("total_supply must be a number, got str"))
        #expect(r.errors.contains("Bucket 'A': allocation must be a number, got str"))
    }

    @Test func unallocatedSupplyIsAWarning() throws {
        let pct = try validate(#"{"token": {"total_supply": 1000, "horizon_months": 1, "start_date": "2026-01-01"}, "buckets": [{"bucket": "A", "allocation": 40, "tge_unlock_pct": 0, "cliff_months": 0, "vesting_months": 0}]}"#)
        #expect(pct.warnings == ["Allocation sum is 40.00%, leaving 60.00% unallocated"])
        let tokens = try validate(#"{"token": {"total_supply": 1000000, "horizon_months": 1, "start_date": "2026-01-01", "allocation_mode": "tokens"}, "buckets": [{"bucket": "A", "allocation": 250000, "tge_unlock_pct": 0, "cliff_months": 0, "vesting_months": 0}]}"#)
        #expect(tokens.warnings == ["750,000 tokens (75.00%) remain unallocated"])
    }
}
