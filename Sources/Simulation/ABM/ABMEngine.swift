import Dispatch

public enum SimulationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The progress callback asked to stop; the run stopped at a month boundary.
    case cancelled
    /// Finite inputs gave a result outside the range of a 64-bit float (for example a total supply near
    /// 1e306 times a price); such a result cannot be written as JSON numbers.
    case overflow

    public static let overflowMessage =
        "The simulation overflowed: some results exceed the range of a 64-bit float. Reduce total_supply, volumes or pricing parameters."

    public var description: String {
        switch self {
        case .cancelled: return "cancelled"
        case .overflow: return Self.overflowMessage
        }
    }
}

/// Called after each month (or trial) with (completed, total); returning false cancels the run.
public typealias ProgressHandler = @Sendable (_ completed: Int, _ total: Int) -> Bool

/// The agent-based model of spec 5, with the engine-side corrections listed in docs/compatibility.md.
public struct ABMEngine: Sendable {
    public let request: ABMRequest
    public let seed: UInt32
    public let plan: PopulationPlan
    public let profiles: [BehaviorProfile]
    public let warnings: [String]

    /// `seed` is the request's seed, or a fresh one chosen by the caller and echoed in the result.
    /// `sellScales` multiplies each cohort's mean sell pressure (Monte Carlo variance, D7).
    public init(request: ABMRequest, seed: UInt32, sellScales: [Double]? = nil) {
        self.request = request
        self.seed = seed
        self.plan = PopulationPlan(request)
        var warnings: [String] = []
        var profiles: [BehaviorProfile] = []
        for b in request.buckets {
            var (profile, warning) = BehaviorProfile.resolve(bucket: b.bucket, mapping: request.abm.bucketCohortMapping)
            if let warning { warnings.append(warning) }
            if let o = request.cohortProfiles?.last(where: { $0.cohort == b.bucket }) { profile = profile.applying(o) }
            if let sellScales { profile.sellMean = min(1, max(0, profile.sellMean * sellScales[profiles.count])) }
            profiles.append(profile)
        }
        let names = Set(request.buckets.map(\.bucket))
        for m in request.abm.bucketCohortMapping ?? [] where !names.contains(m.name) {
            warnings.append("bucket_cohort_mapping names '\(m.name)', which is not a bucket; it has no effect.")
        }
        for o in request.cohortProfiles ?? [] where !names.contains(o.cohort) {
            warnings.append("cohort_profiles names '\(o.cohort)', which is not a bucket; it has no effect.")
        }
        let abm = request.abm
        if abm.enableVolume && abm.pricing.model != .eoe {
            warnings.append(
                "enable_volume has no effect with pricing_model '\(abm.pricing.model.rawValue)'; only 'eoe' reads trading volume."
            )
        }
        if abm.enableStaking && abm.staking.rewardSource == .treasury && !abm.enableTreasury {
            warnings.append("Staking rewards come from the treasury (reward_source 'treasury') but the treasury is disabled; no rewards are paid.")
        }
        if abm.enableTreasury, abm.treasury.initialBalancePct > 0 {
            let unallocated = max(0, 1 - request.buckets.reduce(0) { $0 + $1.allocation } / 100)
            if abm.treasury.initialBalancePct > unallocated + 1e-12 {
                warnings.append(
                    "Treasury initial balance (\(PythonFormat.fixed(abm.treasury.initialBalancePct * 100, 2))% of supply) exceeds the supply no bucket allocates (\(PythonFormat.fixed(unallocated * 100, 2))%); it is capped at the unallocated supply."
                )
            }
        }
        self.profiles = profiles
        self.warnings = warnings
    }

    /// Builds the agents and runs every month. `parallel` lets cohorts be drawn on all cores; the result is
    /// the same either way, because each cohort has its own generator.
    public func run(parallel: Bool = true, progress: ProgressHandler? = nil) throws(SimulationError) -> ABMResult {
        let req = request
        let horizon = req.token.horizonMonths
        let cohorts = plan.cohorts
        let agents = AgentTable(count: plan.totalAgents)
        var starts: [Int] = []
        var offset = 0
        for c in cohorts {
            starts.append(offset)
            offset += c.agents
        }
        populate(agents, starts: starts, parallel: parallel)

        // Per-cohort schedules: the per-agent unlock feeds the agents, the bucket unlock feeds the totals.
        let slotUnlocks: [[Double]] = req.buckets.indices.map { b in
            VestingSchedule(
                allocation: cohorts[b].tokens / Double(cohorts[b].agents), tgePct: req.buckets[b].tgeUnlockPct,
                cliff: req.buckets[b].cliffMonths, vesting: req.buckets[b].vestingMonths
            ).unlocks(horizon: horizon)
        }
        let bucketSchedules = req.buckets.indices.map { b in
            VestingSchedule(
                allocation: cohorts[b].tokens, tgePct: req.buckets[b].tgeUnlockPct, cliff: req.buckets[b].cliffMonths,
                vesting: req.buckets[b].vestingMonths)
        }

        let abm = req.abm
        let supply = req.token.totalSupply
        let pricing = PricingController(settings: abm.pricing, tokenInitialPrice: req.token.initialPrice)
        // D39: EOE always has a demand model; an explicit volume controller replaces the default one.
        let volume = abm.enableVolume && abm.pricing.model == .eoe
            ? VolumeController(settings: abm.volume, totalSupply: supply) : nil
        var pool = abm.enableStaking ? StakingPool(settings: abm.staking, totalSupply: supply) : nil
        let allocatedPct = req.buckets.reduce(0) { $0 + $1.allocation }
        let unallocatedTokens = max(0, supply * (1 - allocatedPct / 100))
        var treasury =
            abm.enableTreasury
            ? Treasury(settings: abm.treasury, initialTokens: min(supply * abm.treasury.initialBalancePct, unallocatedTokens))
            : nil

        let snapshotAgents = snapshotSelection(starts: starts)
        let slotCumulative: [[Double]] =
            snapshotAgents.isEmpty
            ? []
            : slotUnlocks.map { u in
                var total = 0.0
                return u.map { x in
                    total += x
                    return total
                }
            }
        var globals: [ABMGlobalMonth] = []
        globals.reserveCapacity(horizon)
        var cohortRows: [ABMCohortMonth] = []
        if abm.storeCohortDetails { cohortRows.reserveCapacity(horizon * cohorts.count) }
        var snapshots: [ABMAgentSnapshot] = []
        var dynamics: [ABMDynamicsMonth] = []

        let startPrice = pricing.startingPrice
        var price = startPrice
        var cumulativeUnlocked = 0.0
        var rewardsPaidTotal = 0.0
        var rewardsMinted = 0.0
        var previousCirculating = 0.0
        // Pool outcomes of last month, applied lazily at the start of this month's agent pass.
        var acceptRatio = 0.0
        var principalRatio = 0.0
        var returnRatio = 0.0
        let stakingOn = pool != nil

        var sold = [Double](repeating: 0, count: cohorts.count)
        var intent = [Double](repeating: 0, count: cohorts.count)
        var liquidPre = [Double](repeating: 0, count: cohorts.count)
        var stakedPre = [Double](repeating: 0, count: cohorts.count)

        for m in 0..<horizon {
            let rel = (price - startPrice) / startPrice
            var totalSold = 0.0
            var totalIntent = 0.0
            var unlockedThisMonth = 0.0
            for b in cohorts.indices {
                let p = profiles[b]
                // D33: both engines use inclusive thresholds.
                let priceBoost = rel >= p.takeProfit ? 0.2 : (rel <= p.stopLoss ? 0.3 : 0)
                let cliffFactor = bucketSchedules[b].cliffMonth == m ? p.cliffShockMult : 1
                let sums = Self.agentPass(
                    agents, range: starts[b]..<(starts[b] + cohorts[b].agents), unlock: slotUnlocks[b][m],
                    priceBoost: priceBoost, cliffFactor: cliffFactor, staking: stakingOn,
                    acceptRatio: acceptRatio, principalRatio: principalRatio, returnRatio: returnRatio)
                sold[b] = sums.sold
                intent[b] = sums.intent
                liquidPre[b] = sums.liquid
                stakedPre[b] = sums.staked
                totalSold += sums.sold
                totalIntent += sums.intent
                unlockedThisMonth += bucketSchedules[b].unlock(at: m)
            }
            cumulativeUnlocked += unlockedThisMonth

            var stakingMonth = ABMDynamicsMonth.Staking()
            var accepted = 0.0
            if pool != nil {
                stakingMonth.apy = pool!.currentAPY
                accepted = pool!.accept(totalIntent)
                stakingMonth.newStake = accepted
                stakingMonth.rejectedStake = max(0, totalIntent - accepted)
            }
            acceptRatio = totalIntent > 0 ? accepted / totalIntent : 0

            func circulating() -> Double {
                let liquidityTokens = treasury?.liquidityDeployedTokens ?? 0
                let bought = treasury?.totalTokensBought ?? 0
                return max(0, cumulativeUnlocked + rewardsPaidTotal + liquidityTokens - (pool?.totalStaked ?? 0) - bought)
            }

            let circulatingNow = circulating()
            let newPrice = pricing.price(
                .init(
                    previousPrice: price, circulating: circulatingNow, previousCirculating: previousCirculating,
                    dailyVolume: volume?.dailyVolume(circulating: circulatingNow)))

            principalRatio = 0
            returnRatio = 0
            if pool != nil {
                let before = pool!.totalStaked
                let (principal, rewards) = pool!.mature()
                var paid = 0.0
                if rewards > 0 {
                    switch abm.staking.rewardSource {
                    case .emission:
                        paid = rewards
                        rewardsMinted += rewards
                    case .treasury:
                        paid = treasury?.payRewards(rewards) ?? 0
                    }
                }
                rewardsPaidTotal += paid
                if before > 0 {
                    principalRatio = principal / before
                    returnRatio = (principal + paid) / before
                }
                stakingMonth.unlockedPrincipal = principal
                stakingMonth.rewardsPaid = paid
                stakingMonth.rewardsUnpaid = rewards - paid
                stakingMonth.poolBalance = pool!.totalStaked
                stakingMonth.totalRewardsPaid = rewardsPaidTotal
                stakingMonth.utilizationPct = pool!.utilization * 100
            }

            var treasuryMonth: Treasury.Month?
            if treasury != nil {
                treasuryMonth = treasury!.execute(sold: totalSold, price: newPrice, marketFloat: circulating())
            }
            let circulatingEnd = circulating()
            price = newPrice

            var totalHeld = 0.0
            var totalStaked = 0.0
            for b in cohorts.indices {
                let stakedEnd = (stakedPre[b] + acceptRatio * intent[b]) * (1 - principalRatio)
                let heldEnd = liquidPre[b] - acceptRatio * intent[b]
                    + (stakedPre[b] + acceptRatio * intent[b]) * returnRatio
                totalHeld += heldEnd
                totalStaked += stakedEnd
                if abm.storeCohortDetails {
                    cohortRows.append(
                        ABMCohortMonth(
                            monthIndex: m, cohortName: cohorts[b].name, totalSold: sold[b],
                            totalStaked: stakingOn ? stakedEnd : 0, totalHeld: heldEnd, numAgents: cohorts[b].agents))
                }
            }
            let date = req.token.startDate.adding(months: m)
            globals.append(
                ABMGlobalMonth(
                    monthIndex: m, date: date, price: newPrice, circulatingSupply: circulatingEnd,
                    totalUnlocked: unlockedThisMonth, totalSold: totalSold,
                    totalStaked: pool?.totalStaked ?? 0, totalHeld: totalHeld))

            if pool != nil || treasury != nil {
                var d = ABMDynamicsMonth(
                    monthIndex: m, totalSupply: supply + rewardsMinted - (treasury?.totalTokensBurned ?? 0))
                if pool != nil { d.staking = stakingMonth }
                if let t = treasury, let tm = treasuryMonth {
                    d.treasury = ABMDynamicsMonth.TreasuryState(
                        feesCollected: tm.feesCollected, totalFeesCollected: t.totalFeesCollected,
                        fiatBalance: t.fiatBalance, heldFiat: t.heldFiat, tokenBalance: t.tokenBalance,
                        liquidityDeployedFiat: t.liquidityDeployedFiat, liquidityDeployedTokens: t.liquidityDeployedTokens,
                        tokensBought: tm.tokensBought, tokensBurned: tm.tokensBurned,
                        totalTokensBurned: t.totalTokensBurned)
                }
                dynamics.append(d)
            }

            if !snapshotAgents.isEmpty {
                appendSnapshots(
                    &snapshots, agents: agents, selection: snapshotAgents, starts: starts, month: m,
                    acceptRatio: acceptRatio, principalRatio: principalRatio, returnRatio: returnRatio,
                    bucketSchedulesPerSlot: slotCumulative)
            }
            previousCirculating = circulatingEnd
            if let progress, !progress(m + 1, horizon) { throw .cancelled }
        }

        return ABMResult(
            globalMetrics: globals, cohortMetrics: abm.storeCohortDetails ? cohortRows : nil,
            agentSnapshots: snapshotAgents.isEmpty ? nil : snapshots, summary: ABMSummary(globals),
            executionTimeSeconds: 0, numAgents: plan.totalAgents, numCohorts: cohorts.count, warnings: warnings,
            seed: seed, dynamics: (pool != nil || treasury != nil) ? dynamics : nil)
    }

    struct PassSums {
        var sold = 0.0
        var intent = 0.0
        var liquid = 0.0
        var staked = 0.0
    }

    /// One month for one cohort's agents (spec 5.3 with D3, D13, D14 corrected).
    ///
    /// Last month's pool outcome is applied first: the accepted share of each agent's stake offer moves to
    /// its staked balance, then matured principal and rewards flow back pro rata to staked balances. Only
    /// new tokens (this month's unlock plus returns) generate sell pressure.
    @inline(__always)
    static func agentPass(
        _ t: AgentTable, range: Range<Int>, unlock: Double, priceBoost: Double, cliffFactor: Double, staking: Bool,
        acceptRatio: Double, principalRatio: Double, returnRatio: Double
    ) -> PassSums {
        var s = PassSums()
        let coeff = t.sellCoefficient.baseAddress!
        let sens = t.priceSensitivity.baseAddress!
        let liquid = t.liquid.baseAddress!
        let soldCol = t.sold.baseAddress!
        if !staking {
            for i in range {
                let liq = liquid[i] + unlock
                let sell = min(max(unlock * coeff[i] * (1 + priceBoost * sens[i]) * cliffFactor, 0), liq)
                liquid[i] = liq - sell
                soldCol[i] += sell
                s.sold += sell
                s.liquid += liq - sell
            }
            return s
        }
        let prop = t.stakingPropensity.baseAddress!
        let staked = t.staked.baseAddress!
        let intent = t.stakeIntent.baseAddress!
        for i in range {
            let moved = intent[i] * acceptRatio
            var st = staked[i] + moved
            let returned = st * returnRatio
            st -= st * principalRatio
            let inflow = unlock + returned
            var liq = liquid[i] - moved + inflow
            let sell = min(max(inflow * coeff[i] * (1 + priceBoost * sens[i]) * cliffFactor, 0), liq)
            liq -= sell
            let offer = liq * prop[i]
            liquid[i] = liq
            staked[i] = st
            intent[i] = offer
            soldCol[i] += sell
            s.sold += sell
            s.intent += offer
            s.liquid += liq
            s.staked += st
        }
        return s
    }

    private func populate(_ agents: AgentTable, starts: [Int], parallel: Bool) {
        let cohorts = plan.cohorts
        let seeds = cohorts.indices.map { SplitMix64.derive(seed, index: $0) }
        let profiles = self.profiles
        let work = { @Sendable (b: Int) in
            agents.populate(range: starts[b]..<(starts[b] + cohorts[b].agents), profile: profiles[b], seed: seeds[b])
        }
        if parallel && cohorts.count > 1 && agents.count >= 20_000 {
            ParallelLoop.run(cohorts.count, work)
        } else {
            for b in cohorts.indices { work(b) }
        }
    }

    /// Agents reported for `aggregation_level`: none, up to ten evenly spaced per cohort, or all.
    private func snapshotSelection(starts: [Int]) -> [(cohort: Int, index: Int)] {
        var out: [(Int, Int)] = []
        for (b, c) in plan.cohorts.enumerated() {
            switch request.abm.aggregationLevel {
            case .cohort: return []
            case .full: for i in 0..<c.agents { out.append((b, i)) }
            case .sampled:
                let k = min(ABMLimits.sampledAgentsPerCohort, c.agents)
                for j in 0..<k { out.append((b, j * c.agents / k)) }
            }
        }
        return out
    }

    private func appendSnapshots(
        _ out: inout [ABMAgentSnapshot], agents t: AgentTable, selection: [(cohort: Int, index: Int)], starts: [Int],
        month m: Int, acceptRatio: Double, principalRatio: Double, returnRatio: Double, bucketSchedulesPerSlot: [[Double]]
    ) {
        for (b, i) in selection {
            let k = starts[b] + i
            let slot = plan.cohorts[b].tokens / Double(plan.cohorts[b].agents)
            let unlocked = bucketSchedulesPerSlot[b][m]
            let moved = t.stakeIntent[k] * acceptRatio
            let st = t.staked[k] + moved
            out.append(
                ABMAgentSnapshot(
                    agentId: "\(plan.cohorts[b].name)_\(i)", cohort: plan.cohorts[b].name, monthIndex: m,
                    lockedBalance: max(0, slot - unlocked), unlockedBalance: t.liquid[k] - moved + st * returnRatio,
                    stakedBalance: st * (1 - principalRatio), soldCumulative: t.sold[k]))
        }
    }
}
