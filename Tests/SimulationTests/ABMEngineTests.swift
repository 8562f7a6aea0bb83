import Simulation
import Testing

/// Engine behaviour, including the vesting edge cases of the issue and the original's engine tests
/// (spec 11.1, 11.5 to 11.8) with corrected expectations where a defect is fixed.
@Suite struct ABMEngineTests {
    @Test func minimalRequestRunsOneMonth() throws {
        // Spec 11.1.1.
        let r = try run(oneBucket(supply: 1e7, horizon: 1, bucket: "Only", tge: 100, vesting: 0,
                                  abm: #""pricing_model": "constant", "agent_granularity": "meta_agents", "agents_per_cohort": 50"#))
        #expect(r.globalMetrics.count == 1)
        #expect(r.numAgents == 50)
    }

    @Test func zeroCliffZeroTGEUnlocksAtMonthZero() throws {
        // Spec 11.1.2 and the audit's failing test.
        let r = try run(oneBucket(horizon: 6, vesting: 6, abm: #""pricing_config": {"holding_time": 3, "smoothing_factor": 0.3}, "agents_per_cohort": 20"#))
        #expect(r.globalMetrics[0].totalUnlocked > 0)
        #expect(close(r.globalMetrics[0].totalUnlocked, 1_000_000.0 / 6))
    }

    @Test func fullTGEUnlocksEverythingInMonthZero() throws {
        // Spec 11.1.3.
        let r = try run(oneBucket(bucket: "Instant", tge: 100, vesting: 0, abm: #""pricing_model": "constant""#))
        #expect(close(r.globalMetrics[0].totalUnlocked, 1_000_000))
        #expect(r.globalMetrics[1...].allSatisfy { $0.totalUnlocked == 0 })
    }

    @Test func vestingZeroReleasesTheRemainderAtTheCliff() throws {
        // D4: the original never unlocked it.
        let r = try run(oneBucket(tge: 20, cliff: 3, vesting: 0))
        let u = r.globalMetrics.map(\.totalUnlocked)
        #expect(close(u[0], 200_000))
        #expect(close(u[3], 800_000))
        #expect(close(u.reduce(0, +), 1_000_000))
    }

    @Test func cliffBeyondTheHorizonUnlocksNothing() throws {
        // Spec 11.1.4 and 11.1.22.
        let r = try run(oneBucket(cliff: 24, vesting: 12))
        #expect(r.globalMetrics.allSatisfy { $0.totalUnlocked == 0 && $0.circulatingSupply == 0 })
        #expect(r.globalMetrics.allSatisfy { $0.price >= 0.01 })
    }

    @Test func agentCountsFollowTheRequest() throws {
        // Spec 11.1.5 and 11.1.6; the maximum per cohort is 1000.
        let two = try run(
            oneBucket(allocation: 50, abm: #""agents_per_cohort": 1"#).replacingOccurrences(
                of: "\"buckets\": [",
                with: "\"buckets\": [{\"bucket\": \"VC\", \"allocation\": 50, \"tge_unlock_pct\": 0, \"cliff_months\": 0, \"vesting_months\": 6}, "))
        #expect(two.numAgents == 2)
        #expect(two.numCohorts == 2)
        let max = try run(oneBucket(horizon: 3, bucket: "Community", abm: #""agents_per_cohort": 1000"#))
        #expect(max.numAgents == 1000)
        #expect(max.cohortMetrics?.allSatisfy { $0.numAgents == 1000 } == true)
    }

    @Test func cliffShockHitsTheFirstPostCliffTranche() throws {
        // D3: the shock applies at month c, not c - 1.
        let text = oneBucket(horizon: 8, bucket: "Team", cliff: 3, vesting: 4, abm: #""pricing_model": "constant", "agents_per_cohort": 20, "seed": 5"#)
        let r = try run(text)
        let sold = r.globalMetrics.map(\.totalSold)
        let unlocked = r.globalMetrics.map(\.totalUnlocked)
        // The same tranche size at months 3 and 4; only month 3 is multiplied by Team's 1.5 cliff shock.
        #expect(close(unlocked[3], unlocked[4]))
        #expect(close(sold[3], 1.5 * sold[4], rel: 1e-9))
        #expect(sold[2] == 0)
    }

    @Test func economyStartsAtTheTokensInitialPrice() throws {
        // D6.
        let r = try run(
            oneBucket(abm: #""pricing_model": "constant""#).replacingOccurrences(
                of: "\"horizon_months\": 12", with: "\"horizon_months\": 12, \"initial_price\": 2.5"))
        #expect(r.globalMetrics.allSatisfy { $0.price == 2.5 })
    }

    @Test func reportedPriceIsThePriceTheEconomyUses() throws {
        // D17: a constant below 0.01 is reported and used as it is.
        let r = try run(oneBucket(abm: #""pricing_model": "constant", "pricing_config": {"price": 0.005}"#))
        #expect(r.globalMetrics.allSatisfy { $0.price == 0.005 })
        #expect(close(r.summary.averagePrice, 0.005))
    }

    @Test func eoeWithoutVolumeDoesNotCollapse() throws {
        // D39: with nothing new entering circulation the price holds; it reacts to dilution only.
        let r = try run(oneBucket(horizon: 24, tge: 100, vesting: 0))
        #expect(r.globalMetrics.allSatisfy { close($0.price, 1.0) })
        let diluted = try run(oneBucket(horizon: 24, tge: 10, vesting: 12))
        #expect(diluted.globalMetrics.last!.price < 1 && diluted.globalMetrics.last!.price > 0.1)
    }

    @Test func eoeWithVolumeMovesThePrice() throws {
        // Spec 11.6.5.
        let r = try run(
            oneBucket(horizon: 6, tge: 20, abm: #""enable_volume": true, "volume_config": {"volume_model": "proportional", "base_daily_volume": 2e7, "volume_multiplier": 1.5}"#))
        #expect(r.globalMetrics.count == 6)
        #expect(r.globalMetrics[0].price != r.globalMetrics[5].price)
        #expect(r.globalMetrics.allSatisfy { $0.price >= 0.01 })
    }

    @Test func bondingAndIssuanceCurvesGivePositivePrices() throws {
        // Spec 11.1.21 (ignored k/n keys) and the issuance curve.
        let b = try run(oneBucket(tge: 10, abm: #""pricing_model": "bonding_curve", "pricing_config": {"k": 0.000001, "n": 1.5}"#))
        #expect(b.globalMetrics.allSatisfy { $0.price > 0 })
        let i = try run(oneBucket(tge: 10, abm: #""pricing_model": "issuance_curve", "pricing_config": {"max_supply": 1000000, "alpha": 0.5, "initial_price": 2}"#))
        #expect(i.globalMetrics.allSatisfy { $0.price >= 2 })
    }

    @Test func stakingRespectsCapacityAndReturnsRejectedStake() throws {
        // Spec 11.1.23 and D13: the pool never exceeds its capacity; refused stake stays liquid.
        let r = try run(
            oneBucket(bucket: "Staker", tge: 100, vesting: 0, abm: #"""
                "agents_per_cohort": 20, "seed": 3, "enable_staking": true,
                "staking_config": {"max_capacity_pct": 0.3, "apy_multiplier_at_empty": 1.5, "lockup_months": 24}
                """#))
        #expect(r.globalMetrics.allSatisfy { $0.totalStaked <= 300_000 * (1 + 1e-12) })
        #expect(close(r.globalMetrics[11].totalStaked, 300_000, rel: 1e-6))
        for m in r.globalMetrics {
            #expect(close(m.totalHeld + m.totalStaked + soldThrough(r, m.monthIndex), 1_000_000))
        }
    }

    func soldThrough(_ r: ABMResult, _ month: Int) -> Double {
        r.globalMetrics[...month].reduce(0) { $0 + $1.totalSold }
    }

    @Test func stakingPaysPrincipalAndRewardsBackToHolders() throws {
        // D14: matured stake and its rewards return to the stakers.
        let r = try run(
            oneBucket(horizon: 12, tge: 100, vesting: 0, abm: #"""
                "pricing_model": "constant", "enable_staking": true,
                "staking_config": {"base_apy": 0.12, "lockup_months": 3, "max_capacity_pct": 1}
                """#))
        let d = try #require(r.dynamics)
        let paid = d.last!.staking!.totalRewardsPaid
        #expect(paid > 0)
        #expect(d.contains { $0.staking!.unlockedPrincipal > 0 })
        let last = r.globalMetrics.last!
        #expect(close(last.totalHeld + last.totalStaked + soldThrough(r, 11), 1_000_000 + paid, rel: 1e-9))
        #expect(close(d.last!.totalSupply, 1_000_000 + paid))
    }

    @Test func treasuryRewardSourceWithoutTreasuryPaysNothingAndSaysSo() throws {
        let r = try run(
            oneBucket(tge: 100, vesting: 0, abm: #""enable_staking": true, "staking_config": {"reward_source": "treasury", "lockup_months": 1}"#))
        #expect(r.dynamics!.allSatisfy { $0.staking!.rewardsPaid == 0 })
        #expect(r.warnings.contains { $0.contains("treasury is disabled") })
    }

    @Test func treasuryBurnsAndReportsEveryPart() throws {
        // Spec 11.5.1 with D15/D16: fees, liquidity and burns are reported.
        let r = try run(
            oneBucket(allocation: 80, tge: 50, abm: #"""
                "pricing_model": "constant", "enable_treasury": true,
                "treasury_config": {"transaction_fee_pct": 0.03, "hold_pct": 0.4, "liquidity_pct": 0.3, "buyback_pct": 0.3,
                                    "initial_balance_pct": 0.1}
                """#))
        let t = try #require(r.dynamics?.last?.treasury)
        #expect(t.totalFeesCollected > 0)
        #expect(t.totalTokensBurned > 0)
        #expect(t.liquidityDeployedTokens > 0)
        #expect(close(t.heldFiat, t.totalFeesCollected * 0.4))
        #expect(r.dynamics!.last!.totalSupply < 1_000_000)
    }

    @Test func treasuryWithZeroFeeAndNoBurnRuns() throws {
        // Spec 11.1.24.
        let r = try run(oneBucket(abm: #""enable_treasury": true, "treasury_config": {"transaction_fee_pct": 0, "burn_bought_tokens": false}"#))
        #expect(r.dynamics!.allSatisfy { $0.treasury!.feesCollected == 0 })
    }

    @Test func treasuryBalanceComesFromUnallocatedSupply() throws {
        let r = try run(oneBucket(abm: #""enable_treasury": true, "treasury_config": {"initial_balance_pct": 0.5}"#))
        #expect(r.warnings.contains { $0.contains("Treasury initial balance") })
        #expect(r.dynamics!.allSatisfy { $0.treasury!.tokenBalance == 0 })
    }

    @Test func dynamicsMetricsAreNullWithoutStakingOrTreasury() throws {
        #expect(try run(oneBucket()).dynamics == nil)
        #expect(try run(oneBucket()).json()["dynamics_metrics"] == .null)
    }

    @Test func cohortDetailsCanBeTurnedOff() throws {
        let r = try run(oneBucket(abm: #""store_cohort_details": false"#))
        #expect(r.cohortMetrics == nil)
        #expect(r.json()["cohort_metrics"] == .null)
    }

    @Test func datesAreCalendarMonths() throws {
        // D34.
        let r = try run(oneBucket(horizon: 3).replacingOccurrences(of: "2026-01-01", with: "2026-01-31"))
        #expect(r.globalMetrics.map(\.date.description) == ["2026-01-31", "2026-02-28", "2026-03-31"])
    }

    @Test func legacyModesMigrateWithWarnings() throws {
        let r = try run(
            oneBucket(abm: #""agent_granularity": "full_individual""#).replacingOccurrences(
                of: "\"horizon_months\": 12", with: "\"horizon_months\": 12, \"simulation_mode\": \"tier1\""))
        #expect(r.warnings == [
            "Legacy simulation mode 'tier1' detected. Migrating to ABM (Agent-Based Model) format.",
            "Tier 1 (basic vesting) migrated to ABM with default agent behaviors. Consider customizing agent parameters for more realistic market dynamics.",
            "Consider enabling staking or treasury for more realistic token economics.",
            "EOE pricing model benefits from dynamic volume. Consider enabling volume controller.",
            "Full individual agent mode may be slow for large holder counts. Consider using 'adaptive' granularity for better performance.",
        ])
    }

    @Test func cohortProfileOverridesChangeBehaviour() throws {
        // D7: cohort_profiles are applied.
        let base = oneBucket(tge: 100, vesting: 0, abm: #""pricing_model": "constant", "agents_per_cohort": 200"#)
        let calm = base.replacingOccurrences(of: "\"abm\":", with: #""cohort_profiles": {"Team": {"sell_pressure_mean": 0.0, "sell_pressure_std": 0.0}}, "abm":"#)
        let wild = base.replacingOccurrences(of: "\"abm\":", with: #""cohort_profiles": {"Team": {"sell_pressure_mean": 0.9}}, "abm":"#)
        #expect(try run(calm).summary.totalTokensSold == 0)
        #expect(try run(wild).summary.totalTokensSold > 5 * (try run(base).summary.totalTokensSold))
    }

    @Test func unknownPresetFallsBackWithAWarning() throws {
        let r = try run(oneBucket(abm: #""bucket_cohort_mapping": {"Team": "reckless"}"#))
        #expect(r.warnings.count == 1)
        #expect(r.warnings[0].contains("reckless"))
    }

    @Test func aggregationLevelsProduceSnapshots() throws {
        let sampled = try run(oneBucket(horizon: 4, abm: #""agents_per_cohort": 50, "aggregation_level": "sampled""#))
        #expect(sampled.agentSnapshots?.count == 10 * 4)
        let full = try run(oneBucket(horizon: 4, abm: #""agents_per_cohort": 5, "aggregation_level": "full""#))
        let snaps = try #require(full.agentSnapshots)
        #expect(snaps.count == 20)
        // Each agent's balances add up to its allocation (no staking).
        for s in snaps {
            #expect(close(s.lockedBalance + s.unlockedBalance + s.stakedBalance + s.soldCumulative, 200_000))
        }
        #expect(try run(oneBucket()).agentSnapshots == nil)
    }

    @Test func numHoldersReplacesTheEstimate() throws {
        let r = try run(
            oneBucket(abm: #""agent_granularity": "full_individual""#).replacingOccurrences(
                of: "\"vesting_months\": 6}", with: "\"vesting_months\": 6, \"num_holders\": 7}"))
        #expect(r.numAgents == 7)
    }
}

@Suite struct PopulationPlanTests {
    func plan(_ buckets: [(String, Double)], supply: Double, abm: String = "") throws -> PopulationPlan {
        let list = buckets.map { #"{"bucket": "\#($0.0)", "allocation": \#($0.1), "tge_unlock_pct": 0, "cliff_months": 0, "vesting_months": 1}"# }
        let text = #"{"token": {"name": "T", "total_supply": \#(supply), "start_date": "2026-01-01", "horizon_months": 2}, "buckets": [\#(list.joined(separator: ","))], "abm": {\#(abm)}}"#
        return PopulationPlan(try abmRequest(text))
    }

    @Test(arguments: [(500, "full_individual"), (1000, "full_individual"), (5000, "representative_sampling"),
                      (10000, "representative_sampling"), (50000, "meta_agents"), (100000, "meta_agents")])
    func adaptiveThresholds(holders: Int, strategy: String) {
        // Spec 11.7.1.
        #expect(PopulationPlan.autoStrategy(totalHolders: holders).rawValue == strategy)
    }

    @Test func adaptiveAutoSelectsUnlessAgentsPerCohortIsExplicit() throws {
        // D8. Team 100 + VC 400 + Community 9500 holders (spec 11.7.2).
        let buckets = [("Team", 10.0), ("VC", 40.0), ("Community", 95.0 / 10)]
        let auto = try plan(buckets, supply: 10_000_000)
        #expect(auto.cohorts.map(\.holders) == [100, 400, 9500])
        #expect(auto.strategy == .representativeSampling)
        #expect(auto.totalAgents <= 1100)
        #expect(auto.cohorts[2].weight > 1)
        let explicit = try plan(buckets, supply: 10_000_000, abm: #""agents_per_cohort": 50"#)
        #expect(explicit.strategy == .metaAgents)
        #expect(explicit.cohorts.map(\.agents) == [50, 50, 50])
        #expect(explicit.cohorts[2].weight == 190)
        let full = try plan(buckets, supply: 10_000_000, abm: #""agent_granularity": "full_individual""#)
        #expect(full.cohorts.map(\.agents) == [100, 400, 9500])
        #expect(full.cohorts[0].weight == 1)
    }

    @Test func adaptiveEngineStaysSmallForLargeSupplies() throws {
        // Spec 11.7.3 and 11.7.4.
        let small = try plan([("Team", 30), ("Community", 70)], supply: 1e6)
        #expect(small.totalAgents < 10_000)
        let large = try plan([("Team", 30), ("VC", 30), ("Community", 40)], supply: 1e9)
        #expect(large.totalAgents < 5000)
    }

    @Test func metaAgentsWithoutExplicitCountUseTheDefault() throws {
        // Spec 11.7.5.
        let p = try plan([("Team", 25), ("VC", 25), ("Investors", 25), ("Community", 25)], supply: 1e10, abm: #""agent_granularity": "meta_agents""#)
        #expect(p.totalAgents == 200)
        #expect(p.cohorts[0].weight > 1)
    }
}

@Suite struct BehaviorProfileTests {
    @Test func resolutionOrder() {
        // Spec 11.6.6.
        let mapping = [NamedValue("Team", "conservative"), NamedValue("VC", "aggressive")]
        #expect(BehaviorProfile.resolve(bucket: "Team", mapping: mapping).0 == .conservative)
        #expect(BehaviorProfile.resolve(bucket: "VC", mapping: mapping).0 == .aggressive)
        #expect(BehaviorProfile.resolve(bucket: "Team", mapping: nil).0 == .team)
        #expect(BehaviorProfile.resolve(bucket: "Community", mapping: nil).0 == .community)
        #expect(BehaviorProfile.resolve(bucket: "Whatever", mapping: nil).0 == .community)
        let (p, warning) = BehaviorProfile.resolve(bucket: "VC", mapping: [NamedValue("VC", "bogus")])
        #expect(p == .vc)
        #expect(warning != nil)
        #expect(BehaviorProfile.conservative.meanSellPressure < BehaviorProfile.moderate.meanSellPressure)
        #expect(BehaviorProfile.moderate.meanSellPressure < BehaviorProfile.aggressive.meanSellPressure)
        #expect(BehaviorProfile.conservative.meanStakePropensity > BehaviorProfile.moderate.meanStakePropensity)
        #expect(BehaviorProfile.moderate.meanStakePropensity > BehaviorProfile.aggressive.meanStakePropensity)
    }
}

@Suite struct DynamicsComponentTests {
    @Test func volumeModels() {
        // Spec 11.6.1 to 11.6.3.
        var s = VolumeSettings()
        let v = VolumeController(settings: s, totalSupply: 1e9)
        #expect([0, 0.25, 0.5, 1].map { v.dailyVolume(circulating: $0 * 1e9) } == [0, 2.5e6, 5e6, 1e7])
        s.volumeModel = .constant
        s.baseDailyVolume = 5e6
        s.volumeMultiplier = 2
        #expect(VolumeController(settings: s, totalSupply: 1e9).dailyVolume(circulating: 123) == 1e7)
    }

    @Test func stakingAPYFollowsUtilisation() {
        // Spec 11.5.2.
        var pool = StakingPool(settings: StakingSettings(), totalSupply: 1_000_000)
        #expect(close(pool.currentAPY, 0.18))
        _ = pool.accept(250_000)
        let half = pool.currentAPY
        _ = pool.accept(1_000_000)
        #expect(pool.totalStaked == 500_000)
        #expect(close(pool.currentAPY, 0.06))
        #expect(0.18 > half && half > 0.06)
    }

    @Test func treasuryBuybackBurnsExactly() {
        // Spec 11.5.3.
        var s = TreasurySettings()
        s.transactionFeePct = 0.05
        (s.holdPct, s.liquidityPct, s.buybackPct) = (0, 0, 1)
        var t = Treasury(settings: s, initialTokens: 0)
        let m = t.execute(sold: 1e7, price: 1, marketFloat: 5e8)
        #expect(m.feesCollected == 500_000)
        #expect(m.tokensBought > 0)
        #expect(m.tokensBurned == m.tokensBought)
        #expect(t.totalTokensBurned == 500_000)
    }
}
