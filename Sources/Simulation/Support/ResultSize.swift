/// An upper estimate of a result's JSON size, computed from the request before anything runs, so a result
/// too large to send is refused up front (`ABM_MAX_RESULT_BYTES`) instead of after minutes of work.
///
/// Each row is measured once with the widest numbers a double can print as (24 characters) and the
/// request's own names, escaped as the writer escapes them; fixed parts get a generous allowance. The
/// estimate is never below the real size (tests check this) and stays within a small factor of it.
public enum ResultSize {
    /// The widest `JSONWriter` double: sign, 17 significant digits, point and a three-digit exponent.
    static let wide = -1.2345678901234567e-300
    /// Warnings, summary cards and the other fixed fields.
    static let fixedAllowance = 64 << 10

    static func encoded(_ v: JSONValue) -> Int { JSONWriter.bytes(v).count }
    static func quoted(_ s: String) -> Int {
        var out: [UInt8] = []
        JSONWriter.writeString(s, into: &out)
        return out.count
    }

    static let date = SimDate(year: 2000, month: 12, day: 31)!
    static let globalMonth = encoded(
        ABMGlobalMonth(
            monthIndex: 9999, date: date, price: wide, circulatingSupply: wide, totalUnlocked: wide, totalSold: wide,
            totalStaked: wide, totalHeld: wide
        ).json()) + 1
    /// A cohort row without its name's two quotes and characters.
    static let cohortMonth = encoded(
        ABMCohortMonth(monthIndex: 9999, cohortName: "", totalSold: wide, totalStaked: wide, totalHeld: wide, numAgents: 9_999_999).json()) - 2 + 1
    /// A snapshot without its two names (agent id and cohort); the id adds `_` and up to 7 digits.
    static let snapshot = encoded(
        ABMAgentSnapshot(
            agentId: "_9999999", cohort: "", monthIndex: 9999, lockedBalance: wide, unlockedBalance: wide, stakedBalance: wide,
            soldCumulative: wide
        ).json()) - 4 + 1
    static let dynamicsMonth = encoded(
        ABMDynamicsMonth(
            monthIndex: 9999, totalSupply: wide,
            staking: .init(
                apy: wide, utilizationPct: wide, newStake: wide, rejectedStake: wide, unlockedPrincipal: wide,
                rewardsPaid: wide, rewardsUnpaid: wide, poolBalance: wide, totalRewardsPaid: wide),
            treasury: .init(
                feesCollected: wide, totalFeesCollected: wide, fiatBalance: wide, heldFiat: wide, tokenBalance: wide,
                liquidityDeployedFiat: wide, liquidityDeployedTokens: wide, tokensBought: wide, tokensBurned: wide,
                totalTokensBurned: wide)
        ).json()) + 1

    /// `simulate-sync` and ABM job results.
    public static func abm(_ request: ABMRequest) -> Int {
        let months = request.token.horizonMonths + 1
        let plan = PopulationPlan(request)
        var total = fixedAllowance + months * (globalMonth + dynamicsMonth)
        if request.abm.storeCohortDetails {
            for c in plan.cohorts { total += months * (cohortMonth + quoted(c.name) - 2) }
        }
        let perCohort: (PopulationPlan.Cohort) -> Int
        switch request.abm.aggregationLevel {
        case .cohort: perCohort = { _ in 0 }
        case .sampled: perCohort = { min(ABMLimits.sampledAgentsPerCohort, $0.agents) }
        case .full: perCohort = { $0.agents }
        }
        for c in plan.cohorts {
            let name = quoted(c.name) - 2
            total += perCohort(c) * months * (snapshot + 2 * name)
        }
        return total
    }

    /// Monte Carlo job results: every trial's months, three percentile bands and the mean.
    public static func monteCarlo(_ request: ABMRequest, trials: Int) -> Int {
        let months = request.token.horizonMonths + 1
        return fixedAllowance + (max(1, trials) + 4) * (months * globalMonth + 256)
    }

    /// `/api/v1/simulate`: a row per bucket and month, and a global row per month.
    public static func v1(_ config: V1Config) -> Int {
        let months = config.token.horizonMonths + 1
        let bucket = V1Result.BucketRow(
            monthIndex: 9999, date: date, bucket: "", allocationTokens: wide, unlockedThisMonth: wide,
            unlockedCumulative: wide, lockedRemaining: wide, sellPressureEffective: wide, expectedSellThisMonth: wide,
            expectedCirculatingCumulative: wide)
        let bucketRow = encoded(bucket.json()) - 2 + 1
        let band = V1Result.Band(p10: wide, p90: wide, median: wide, std: wide)
        let global = encoded(
            V1Result.GlobalRow(
                monthIndex: 9999, date: date, totalUnlocked: wide, totalExpectedSell: wide, expectedCirculatingTotal: wide,
                expectedCirculatingPct: wide, sellVolumeRatio: wide, currentPrice: wide, stakedAmount: wide,
                liquidityDeployed: wide, treasuryBalance: wide, totalUnlockedBand: band, totalExpectedSellBand: band,
                expectedCirculatingTotalBand: band, currentPriceBand: band
            ).json()) + 1
        var total = fixedAllowance + months * global
        for b in config.buckets { total += months * (bucketRow + quoted(b.bucket) - 2) }
        return total
    }
}
