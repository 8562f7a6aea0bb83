/// `ABMSimulationResults` (spec 4.2) plus the fields this implementation adds: the seed that was used
/// (so any run can be replayed) and the staking and treasury metrics the original computed and dropped (D15).
public struct ABMResult: Sendable, Equatable {
    public var globalMetrics: [ABMGlobalMonth]
    public var cohortMetrics: [ABMCohortMonth]?
    public var agentSnapshots: [ABMAgentSnapshot]?
    public var summary: ABMSummary
    /// Wall time of the monthly loop, set by the caller that owns a clock.
    public var executionTimeSeconds: Double
    public var numAgents: Int
    public var numCohorts: Int
    public var warnings: [String]
    public var seed: UInt32
    /// Per-month staking and treasury state; nil when neither is enabled.
    public var dynamics: [ABMDynamicsMonth]?

    public func json() -> JSONValue { jsonStream().value }

    /// The response body, its long arrays encoded element by element as they are written.
    public func jsonStream() -> JSONStream {
        .object([
            ("global_metrics", .elements(globalMetrics) { $0.json() }),
            ("cohort_metrics", .elements(cohortMetrics) { $0.json() }),
            ("agent_snapshots", .elements(agentSnapshots) { $0.json() }),
            ("summary", .value(summary.json())),
            ("execution_time_seconds", .value(.num(executionTimeSeconds))),
            ("num_agents", .value(.integer(numAgents))),
            ("num_cohorts", .value(.integer(numCohorts))),
            ("warnings", .value(.strings(warnings))),
            ("seed", .value(.int(Int64(seed)))),
            ("dynamics_metrics", .elements(dynamics) { $0.json() }),
        ])
    }

    /// Whether every number of the result is finite, checked field by field before a byte is sent: a
    /// streamed 200 cannot turn into the overflow 422 halfway.
    public var isFinite: Bool {
        summary.isFinite && executionTimeSeconds.isFinite && globalMetrics.allSatisfy(\.isFinite)
            && (cohortMetrics ?? []).allSatisfy(\.isFinite) && (agentSnapshots ?? []).allSatisfy(\.isFinite)
            && (dynamics ?? []).allSatisfy(\.isFinite)
    }
}

public struct ABMGlobalMonth: Sendable, Equatable {
    public var monthIndex: Int
    public var date: SimDate
    public var price: Double
    public var circulatingSupply: Double
    /// Tokens unlocked by vesting this month (a flow).
    public var totalUnlocked: Double
    /// Tokens sold this month (a flow).
    public var totalSold: Double
    /// Tokens locked in the staking pool at the end of the month (a stock; D12).
    public var totalStaked: Double
    /// Liquid tokens held by agents at the end of the month (a stock).
    public var totalHeld: Double

    var isFinite: Bool {
        price.isFinite && circulatingSupply.isFinite && totalUnlocked.isFinite && totalSold.isFinite && totalStaked.isFinite
            && totalHeld.isFinite
    }

    public func json() -> JSONValue {
        .object(
            JSONObject([
                ("month_index", .integer(monthIndex)), ("date", .string(date.description)), ("price", .num(price)),
                ("circulating_supply", .num(circulatingSupply)), ("total_unlocked", .num(totalUnlocked)),
                ("total_sold", .num(totalSold)), ("total_staked", .num(totalStaked)), ("total_held", .num(totalHeld)),
            ]))
    }
}

public struct ABMCohortMonth: Sendable, Equatable {
    public var monthIndex: Int
    public var cohortName: String
    public var totalSold: Double
    /// Stock in the staking pool, the same meaning as the global field (D12).
    public var totalStaked: Double
    public var totalHeld: Double
    public var numAgents: Int

    var isFinite: Bool { totalSold.isFinite && totalStaked.isFinite && totalHeld.isFinite }

    public func json() -> JSONValue {
        .object(
            JSONObject([
                ("month_index", .integer(monthIndex)), ("cohort_name", .string(cohortName)),
                ("total_sold", .num(totalSold)), ("total_staked", .num(totalStaked)), ("total_held", .num(totalHeld)),
                ("num_agents", .integer(numAgents)),
            ]))
    }
}

/// One simulated agent at the end of a month. Balances are the agent's own (it stands for `weight` holders).
public struct ABMAgentSnapshot: Sendable, Equatable {
    public var agentId: String
    public var cohort: String
    public var monthIndex: Int
    public var lockedBalance: Double
    public var unlockedBalance: Double
    public var stakedBalance: Double
    public var soldCumulative: Double

    var isFinite: Bool { lockedBalance.isFinite && unlockedBalance.isFinite && stakedBalance.isFinite && soldCumulative.isFinite }

    public func json() -> JSONValue {
        .object(
            JSONObject([
                ("agent_id", .string(agentId)), ("cohort", .string(cohort)), ("month_index", .integer(monthIndex)),
                ("locked_balance", .num(lockedBalance)), ("unlocked_balance", .num(unlockedBalance)),
                ("staked_balance", .num(stakedBalance)), ("sold_cumulative", .num(soldCumulative)),
            ]))
    }
}

public struct ABMSummary: Sendable, Equatable {
    public var maxSellMonth = 0
    public var maxSellTokens = 0.0
    public var finalPrice = 0.0
    public var finalCirculatingSupply = 0.0
    public var totalTokensSold = 0.0
    public var averagePrice = 0.0

    /// Summary cards over the month list (spec 5.9).
    public init(_ months: [ABMGlobalMonth]) {
        guard let last = months.last else { return }
        var best = months[0]
        var sold = 0.0
        var value = 0.0
        for m in months {
            if m.totalSold > best.totalSold { best = m }
            sold += m.totalSold
            value += m.totalSold * m.price
        }
        maxSellMonth = best.monthIndex
        maxSellTokens = best.totalSold
        finalPrice = last.price
        finalCirculatingSupply = last.circulatingSupply
        totalTokensSold = sold
        averagePrice = sold > 0 ? value / sold : 0
    }

    var isFinite: Bool {
        maxSellTokens.isFinite && finalPrice.isFinite && finalCirculatingSupply.isFinite && totalTokensSold.isFinite
            && averagePrice.isFinite
    }

    public func json() -> JSONValue {
        .object(
            JSONObject([
                ("max_sell_month", .integer(maxSellMonth)), ("max_sell_tokens", .num(maxSellTokens)),
                ("final_price", .num(finalPrice)), ("final_circulating_supply", .num(finalCirculatingSupply)),
                ("total_tokens_sold", .num(totalTokensSold)), ("average_price", .num(averagePrice)),
            ]))
    }
}

/// Staking and treasury state after one month (D15, D16).
public struct ABMDynamicsMonth: Sendable, Equatable {
    public struct Staking: Sendable, Equatable {
        public var apy = 0.0
        public var utilizationPct = 0.0
        public var newStake = 0.0
        public var rejectedStake = 0.0
        public var unlockedPrincipal = 0.0
        public var rewardsPaid = 0.0
        public var rewardsUnpaid = 0.0
        public var poolBalance = 0.0
        public var totalRewardsPaid = 0.0
    }

    public struct TreasuryState: Sendable, Equatable {
        public var feesCollected = 0.0
        public var totalFeesCollected = 0.0
        public var fiatBalance = 0.0
        public var heldFiat = 0.0
        public var tokenBalance = 0.0
        public var liquidityDeployedFiat = 0.0
        public var liquidityDeployedTokens = 0.0
        public var tokensBought = 0.0
        public var tokensBurned = 0.0
        public var totalTokensBurned = 0.0
    }

    public var monthIndex: Int
    /// Initial supply plus minted rewards minus burned tokens.
    public var totalSupply: Double
    public var staking: Staking?
    public var treasury: TreasuryState?

    /// Checked through the encoding: a month holds a few dozen numbers.
    var isFinite: Bool { json().isFinite }

    public func json() -> JSONValue {
        var o = JSONObject()
        o["month_index"] = .integer(monthIndex)
        o["total_supply"] = .num(totalSupply)
        if let s = staking {
            o["staking"] = .object(
                JSONObject([
                    ("apy", .num(s.apy)), ("utilization_pct", .num(s.utilizationPct)), ("new_stake", .num(s.newStake)),
                    ("rejected_stake", .num(s.rejectedStake)), ("unlocked_principal", .num(s.unlockedPrincipal)),
                    ("rewards_paid", .num(s.rewardsPaid)), ("rewards_unpaid", .num(s.rewardsUnpaid)),
                    ("pool_balance", .num(s.poolBalance)), ("total_rewards_paid", .num(s.totalRewardsPaid)),
                ]))
        } else {
            o["staking"] = .null
        }
        if let t = treasury {
            o["treasury"] = .object(
                JSONObject([
                    ("fees_collected", .num(t.feesCollected)), ("total_fees_collected", .num(t.totalFeesCollected)),
                    ("fiat_balance", .num(t.fiatBalance)), ("held_fiat", .num(t.heldFiat)),
                    ("token_balance", .num(t.tokenBalance)),
                    ("liquidity_deployed_fiat", .num(t.liquidityDeployedFiat)),
                    ("liquidity_deployed_tokens", .num(t.liquidityDeployedTokens)),
                    ("tokens_bought", .num(t.tokensBought)), ("tokens_burned", .num(t.tokensBurned)),
                    ("total_tokens_burned", .num(t.totalTokensBurned)),
                ]))
        } else {
            o["treasury"] = .null
        }
        return .object(o)
    }
}
