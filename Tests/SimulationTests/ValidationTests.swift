import Simulation
import Testing

@Suite struct ABMValidationTests {
    func paths(_ issues: [ValidationIssue]) -> [String] { issues.map(\.fieldPath) }

    @Test func reportsEveryProblemAtOnceWithItsPath() {
        let issues = abmIssues(
            #"""
            {"token": {"name": "", "total_supply": -1, "start_date": "2026-02-30", "horizon_months": 241,
                       "initial_price": 0},
             "buckets": [{"bucket": "A", "allocation": 101, "tge_unlock_pct": -1, "cliff_months": 1.5,
                          "vesting_months": "abc"}],
             "abm": {"agents_per_cohort": 0, "pricing_model": "invalid_model", "seed": -1,
                     "agent_granularity": "some"}}
            """#)
        #expect(
            Set(paths(issues)) == [
                "token.name", "token.total_supply", "token.start_date", "token.horizon_months", "token.initial_price",
                "buckets[0].allocation", "buckets[0].tge_unlock_pct", "buckets[0].cliff_months",
                "buckets[0].vesting_months", "abm.agents_per_cohort", "abm.pricing_model", "abm.seed",
                "abm.agent_granularity",
            ])
        let byPath = Dictionary(issues.map { ($0.fieldPath, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byPath["token.name"]?.type == "string_too_short")
        #expect(byPath["token.total_supply"]?.msg == "Input should be greater than 0")
        #expect(byPath["token.start_date"]?.msg == "Value error, start_date must be in YYYY-MM-DD format")
        #expect(byPath["token.horizon_months"]?.msg == "Input should be less than or equal to 240")
        #expect(byPath["buckets[0].cliff_months"]?.type == "int_from_float")
        #expect(byPath["buckets[0].vesting_months"]?.type == "int_parsing")
        #expect(byPath["abm.pricing_model"]?.msg == "Input should be 'eoe', 'bonding_curve', 'issuance_curve' or 'constant'")
        #expect(byPath["abm.seed"]?.type == "greater_than_equal")
    }

    @Test func missingFieldsAreReportedUnderTheirParent() {
        let issues = abmIssues(#"{"token": {"name": "x"}, "buckets": []}"#)
        #expect(paths(issues) == ["token.total_supply", "token.start_date", "token.horizon_months", "buckets"])
        #expect(issues.last?.msg == "Value error, At least one bucket must be provided")
        #expect(issues.first?.type == "missing")
    }

    @Test func bodyShapeErrorsMatchTheOriginal() {
        #expect(abmIssues("null").map(\.type) == ["missing"])
        #expect(abmIssues("").map(\.type) == ["missing"])
        #expect(abmIssues("[1]").map(\.type) == ["model_attributes_type"])
        let bad = abmIssues("{\"token\": ")
        #expect(bad.map(\.type) == ["json_invalid"])
        #expect(bad.first?.loc == [.index(10)])
        #expect(bad.first?.json()["loc"] == ["body", 10])
    }

    @Test func laxCoercionAcceptsWhatPydanticAccepts() throws {
        let r = try abmRequest(
            #"""
            {"token": {"name": "T", "total_supply": "1000000", "start_date": "2026-01-01", "horizon_months": 12.0},
             "buckets": [{"bucket": "A", "allocation": "50", "tge_unlock_pct": 10, "cliff_months": "3",
                          "vesting_months": 6, "unknown": 1}],
             "abm": {"store_cohort_details": "no", "enable_staking": 1, "initial_price": 5}}
            """#)
        #expect(r.token.totalSupply == 1_000_000)
        #expect(r.token.horizonMonths == 12)
        #expect(r.buckets[0].cliffMonths == 3)
        #expect(r.abm.storeCohortDetails == false)
        #expect(r.abm.enableStaking == true)
    }

    @Test func listLevelChecksUseTheOriginalMessages() {
        let over = abmIssues(oneBucket(allocation: 60).replacingOccurrences(
            of: "\"buckets\": [", with: "\"buckets\": [{\"bucket\": \"B\", \"allocation\": 50.5, \"tge_unlock_pct\": 0, \"cliff_months\": 0, \"vesting_months\": 0}, "))
        #expect(over.map(\.msg) == ["Value error, Total allocation (110.5%) exceeds 100%"])
        let buckets = (0..<1001).map { #"{"bucket": "b\#($0)", "allocation": 0, "tge_unlock_pct": 0, "cliff_months": 0, "vesting_months": 0}"# }
        let many = abmIssues(#"{"token": {"name": "T", "total_supply": 1, "start_date": "2026-01-01", "horizon_months": 1}, "buckets": [\#(buckets.joined(separator: ","))]}"#)
        #expect(many.map(\.msg) == ["Value error, Too many buckets (1001). Maximum allowed is 1000."])
    }

    @Test func duplicateBucketNamesAreRejected() {
        let issues = abmIssues(oneBucket(allocation: 50).replacingOccurrences(
            of: "\"buckets\": [", with: "\"buckets\": [{\"bucket\": \"Team\", \"allocation\": 10, \"tge_unlock_pct\": 0, \"cliff_months\": 0, \"vesting_months\": 0}, "))
        #expect(paths(issues) == ["buckets[1].bucket"])
    }

    @Test func dynamicsConfigsAreSchemaValidated() {
        let issues = abmIssues(
            oneBucket(
                abm: #"""
                    "pricing_config": {"holding_time": 0, "smoothing_factor": 2},
                    "enable_staking": true, "staking_config": {"base_apy": -1, "lockup_months": 1.5, "reward_source": "x"},
                    "enable_treasury": true, "treasury_config": {"hold_pct": 0.9, "liquidity_pct": 0.3, "buyback_pct": 0.2},
                    "volume_config": {"volume_multiplier": 0}
                    """#))
        #expect(
            Set(paths(issues)) == [
                "abm.pricing_config.holding_time", "abm.pricing_config.smoothing_factor", "abm.staking_config.base_apy",
                "abm.staking_config.lockup_months", "abm.staking_config.reward_source", "abm.treasury_config",
                "abm.volume_config.volume_multiplier",
            ])
        #expect(issues.contains { $0.msg == "Value error, Treasury allocation percentages must sum to 1.0, got 1.40" })
    }

    @Test func nullDynamicsConfigsMeanDefaults() throws {
        let r = try abmRequest(
            oneBucket(abm: #""enable_staking": true, "staking_config": null, "enable_treasury": true, "treasury_config": null, "enable_volume": true, "volume_config": null"#))
        #expect(r.abm.staking == StakingSettings())
        #expect(r.abm.treasury == TreasurySettings())
        #expect(try ABMSimulation.run(r).globalMetrics.count == 12)
    }

    @Test func nonFiniteAndHugeNumbersAreRejected() {
        #expect(abmIssues(oneBucket(supply: .infinity).replacingOccurrences(of: "inf", with: "Infinity")).map(\.type) == ["finite_number"])
        let huge = abmIssues(oneBucket().replacingOccurrences(of: "\"horizon_months\": 12", with: "\"horizon_months\": 1e400"))
        #expect(huge.map(\.fieldPath) == ["token.horizon_months"])
    }

    @Test func fullIndividualIsCapped() {
        let issues = abmIssues(oneBucket(supply: 1e9, bucket: "Community", abm: #""agent_granularity": "full_individual""#))
        #expect(paths(issues) == ["abm.agent_granularity"])
    }

    @Test func monteCarloSettingsAreValidatedAtSubmit() {
        let issues = abmIssues(
            oneBucket().replacingOccurrences(
                of: "\"abm\":", with: #""monte_carlo": {"num_trials": 5, "confidence_levels": [10, 101]}, "abm":"#))
        #expect(Set(paths(issues)) == ["monte_carlo.num_trials", "monte_carlo.confidence_levels[1]"])
        let empty = abmIssues(
            oneBucket().replacingOccurrences(of: "\"abm\":", with: #""monte_carlo": {"confidence_levels": []}, "abm":"#))
        #expect(empty.map(\.type) == ["too_short"])
    }

    @Test func issueJSONHasTheOriginalShape() {
        let issue = abmIssues(oneBucket(supply: -5))[0]
        #expect(
            JSONWriter.string(issue.json())
                == #"{"type":"greater_than","loc":["body","token","total_supply"],"msg":"Input should be greater than 0","input":-5.0,"ctx":{"gt":0}}"#
        )
    }
}

import Foundation

@Suite struct CanonicalRequestTests {
    @Test(arguments: 0..<25)
    func canonicalFormDecodesToTheSameRequest(caseIndex: Int) throws {
        var rng = SplitMix64(seed: UInt64(caseIndex) &+ 555)
        let request = try abmRequest(InvariantTests.randomRequest(&rng))
        let again = try ABMRequestDecoder.decode(request.canonicalJSON).get()
        #expect(again == request)
    }

    @Test func spelledOutDefaultsCanonicaliseAlike() throws {
        let short = try abmRequest(oneBucket(abm: #""seed": 4"#))
        let long = try abmRequest(
            oneBucket(abm: #""seed": 4, "pricing_model": "eoe", "pricing_config": {"holding_time": 6.0, "smoothing_factor": 0.7}, "store_cohort_details": true, "enable_staking": false"#))
        #expect(JSONWriter.bytes(short.canonicalJSON.sortedKeys) == JSONWriter.bytes(long.canonicalJSON.sortedKeys))
        let other = try abmRequest(oneBucket(abm: #""seed": 5"#))
        #expect(JSONWriter.bytes(short.canonicalJSON) != JSONWriter.bytes(other.canonicalJSON))
    }

    @Test func explicitAgentCountSurvivesTheRoundTrip() throws {
        let r = try abmRequest(oneBucket(abm: #""agents_per_cohort": 50"#))
        #expect(r.abm.agentsPerCohortExplicit)
        #expect(try ABMRequestDecoder.decode(r.canonicalJSON).get().abm.agentsPerCohortExplicit)
        let implicit = try abmRequest(oneBucket(abm: ""))
        #expect(!(try ABMRequestDecoder.decode(implicit.canonicalJSON).get().abm.agentsPerCohortExplicit))
    }
}
