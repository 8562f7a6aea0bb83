import Simulation
import Testing

/// Property-style checks over many seeds and randomly generated valid configurations.
@Suite struct InvariantTests {
    /// A random valid request whose horizon covers every bucket's cliff plus vesting.
    static func randomRequest(_ rng: inout SplitMix64) -> String {
        let names = ["Team", "VC", "Advisors", "Investors", "Community", "Public", "Ecosystem", "Liquidity"].shuffled(using: &rng)
        let count = Int.random(in: 1...5, using: &rng)
        var remaining = 100.0
        var buckets: [String] = []
        var longest = 1
        for i in 0..<count {
            let alloc = i == count - 1 ? remaining * Double.random(in: 0.3...1, using: &rng) : remaining * Double.random(in: 0...0.6, using: &rng)
            remaining -= alloc
            let cliff = Int.random(in: 0...18, using: &rng)
            let vesting = Int.random(in: 0...30, using: &rng)
            let tge = [0, 0, 5, 10, 25, 100][Int.random(in: 0...5, using: &rng)]
            longest = max(longest, cliff + max(vesting, 1))
            buckets.append(#"{"bucket": "\#(names[i])", "allocation": \#(alloc), "tge_unlock_pct": \#(tge), "cliff_months": \#(cliff), "vesting_months": \#(vesting)}"#)
        }
        let horizon = min(240, longest + Int.random(in: 0...6, using: &rng))
        let model = ["eoe", "bonding_curve", "issuance_curve", "constant"][Int.random(in: 0...3, using: &rng)]
        let staking = Bool.random(using: &rng)
        let treasury = Bool.random(using: &rng)
        let volume = Bool.random(using: &rng)
        let supply = [1e6, 1e8, 1e9, 123_456_789][Int.random(in: 0...3, using: &rng)]
        let lockup = Int.random(in: 0...12, using: &rng)
        let source = Bool.random(using: &rng) ? "emission" : "treasury"
        return #"""
            {"token": {"name": "R", "total_supply": \#(supply), "start_date": "2025-03-31", "horizon_months": \#(horizon)},
             "buckets": [\#(buckets.joined(separator: ","))],
             "abm": {"agents_per_cohort": \#(Int.random(in: 1...40, using: &rng)), "pricing_model": "\#(model)",
                     "seed": \#(UInt32.random(in: 0...UInt32.max, using: &rng)),
                     "enable_staking": \#(staking), "staking_config": {"lockup_months": \#(lockup), "max_capacity_pct": \#(Double.random(in: 0...1, using: &rng)), "reward_source": "\#(source)"},
                     "enable_treasury": \#(treasury), "treasury_config": {"initial_balance_pct": 0.05, "transaction_fee_pct": 0.05},
                     "enable_volume": \#(volume)}}
            """#
    }

    @Test(arguments: 0..<60)
    func conservationAndSupplyBounds(caseIndex: Int) throws {
        var rng = SplitMix64(seed: UInt64(caseIndex) &* 7919 &+ 17)
        let text = Self.randomRequest(&rng)
        let request = try abmRequest(text)
        let result = try ABMSimulation.run(request)
        let plan = PopulationPlan(request)
        let allocated = plan.cohorts.reduce(0) { $0 + $1.tokens }

        // Agents of a bucket together hold exactly the bucket's tokens (D1).
        for c in plan.cohorts {
            #expect(close(Double(c.agents) * (c.tokens / Double(c.agents)), c.tokens))
        }
        // Over a horizon covering cliff plus vesting, everything unlocks, exactly once.
        let unlocked = result.globalMetrics.reduce(0) { $0 + $1.totalUnlocked }
        #expect(close(unlocked, allocated, rel: 1e-9), "unlocked \(unlocked) of \(allocated) for \(text)")

        var cumUnlocked = 0.0
        var cumSold = 0.0
        for (m, g) in result.globalMetrics.enumerated() {
            cumUnlocked += g.totalUnlocked
            cumSold += g.totalSold
            let supply = result.dynamics?[m].totalSupply ?? request.token.totalSupply
            let rewards = result.dynamics?[m].staking?.totalRewardsPaid ?? 0
            // D2: circulating never exceeds total supply.
            #expect(g.circulatingSupply <= supply * (1 + 1e-9), "month \(m): \(g.circulatingSupply) > \(supply)")
            #expect(g.circulatingSupply >= 0)
            #expect(g.price > 0 && g.price.isFinite)
            #expect(g.totalHeld >= -1e-6 * allocated && g.totalStaked >= 0 && g.totalSold >= 0)
            // Every unlocked token (plus paid rewards) is held, staked or sold.
            #expect(close(g.totalHeld + g.totalStaked + cumSold, cumUnlocked + rewards, rel: 1e-8), "month \(m) of \(text)")
        }
        if let cohorts = result.cohortMetrics {
            for m in result.globalMetrics.indices {
                let rows = cohorts.filter { $0.monthIndex == m }
                #expect(close(rows.reduce(0) { $0 + $1.totalSold }, result.globalMetrics[m].totalSold, rel: 1e-9))
                #expect(close(rows.reduce(0) { $0 + $1.totalHeld }, result.globalMetrics[m].totalHeld, rel: 1e-9))
            }
        }
    }

    @Test(arguments: 0..<20)
    func sameSeedGivesByteIdenticalJSON(caseIndex: Int) throws {
        var rng = SplitMix64(seed: UInt64(caseIndex) &+ 1000)
        let request = try abmRequest(Self.randomRequest(&rng))
        let a = JSONWriter.bytes(try ABMSimulation.run(request).json())
        let b = JSONWriter.bytes(try ABMSimulation.run(request, parallel: false).json())
        #expect(a == b)
    }

    @Test func parallelAgentCreationMatchesSequential() throws {
        let text = oneBucket(supply: 1e9, horizon: 24, tge: 10, vesting: 12, abm: #""agents_per_cohort": 1000, "seed": 77"#)
            .replacingOccurrences(
                of: "\"buckets\": [",
                with: "\"buckets\": [" + (0..<30).map { #"{"bucket": "B\#($0)", "allocation": 1, "tge_unlock_pct": 5, "cliff_months": \#($0 % 7), "vesting_months": 10}, "# }.joined())
            .replacingOccurrences(of: "\"allocation\": 100", with: "\"allocation\": 70")
        let request = try abmRequest(text)
        #expect(PopulationPlan(request).totalAgents == 31_000)
        let a = try ABMSimulation.run(request, parallel: true)
        let b = try ABMSimulation.run(request, parallel: false)
        #expect(JSONWriter.bytes(a.json()) == JSONWriter.bytes(b.json()))
    }

    @Test func unseededRunsEchoAFreshSeedThatReplays() throws {
        let request = try abmRequest(oneBucket(abm: #""agents_per_cohort": 30"#))
        #expect(request.abm.seed == nil)
        let first = try ABMSimulation.run(request)
        let second = try ABMSimulation.run(request)
        var replay = request
        replay.abm.seed = first.seed
        #expect(JSONWriter.bytes(try ABMSimulation.run(replay).json()) == JSONWriter.bytes(first.json()))
        #expect(first.seed != second.seed)
        #expect(first.json()["seed"] == .int(Int64(first.seed)))
    }

    @Test func differentSeedsGiveDifferentAgents() throws {
        let a = try run(oneBucket(tge: 100, vesting: 0, abm: #""seed": 1"#))
        let b = try run(oneBucket(tge: 100, vesting: 0, abm: #""seed": 2"#))
        #expect(a.summary.totalTokensSold != b.summary.totalTokensSold)
    }

    @Test func cancellationStopsAtAMonthBoundary() throws {
        let request = try abmRequest(oneBucket(horizon: 60))
        let months = Counter()
        #expect(throws: SimulationError.cancelled) {
            try ABMSimulation.run(request) { done, _ in
                months.set(done)
                return done < 5
            }
        }
        #expect(months.value == 5)
    }
}

final class Counter: @unchecked Sendable {
    private(set) var value = 0
    func set(_ v: Int) { value = v }
}
