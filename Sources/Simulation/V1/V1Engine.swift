import Dispatch

/// The v1 deterministic vesting simulator (spec 8) with D5, D29, D30, D33 and D34 corrected: one unlock
/// convention shared with the ABM engine, calendar-month dates, fractions for `expected_circulating_pct`
/// in every tier, and relock, cliff shock, price triggers, staking capacity/lockup and cohort behaviour
/// honoured in tiers 2 and 3.
public enum V1Engine {
    /// Runs the tier the config asks for, including the tier-3 Monte Carlo when enabled. `isCancelled` is
    /// polled every month of every trial; once it answers true the run stops and throws `.cancelled`.
    public static func run(
        _ config: V1Config, maxConcurrency: Int = 0, isCancelled: @escaping @Sendable () -> Bool = { false }
    ) throws(SimulationError) -> V1Result {
        let warnings = V1Validator.validate(configObject(config)).warnings
        let base = deterministic(config, isCancelled: isCancelled)
        if isCancelled() { throw .cancelled }
        guard config.token.simulationMode == .tier3, config.monteCarlo.enabled else {
            return V1Result(
                bucketResults: base.buckets, globalMetrics: base.globals, summaryCards: .init(base.globals),
                warnings: warnings)
        }
        let globals = monteCarlo(config, maxConcurrency: maxConcurrency, isCancelled: isCancelled)
        if isCancelled() { throw .cancelled }
        return V1Result(
            bucketResults: base.buckets, globalMetrics: globals, summaryCards: .init(base.globals), warnings: warnings)
    }

    /// The raw-dict view the 8.2 checks read, for the warnings of a validated config.
    public static func configObject(_ c: V1Config) -> JSONObject {
        JSONObject([
            (
                "token",
                [
                    "total_supply": .double(c.token.totalSupply), "horizon_months": .integer(c.token.horizonMonths),
                    "start_date": .string(c.token.startDate.description),
                    "allocation_mode": .string(c.token.allocationMode.rawValue),
                ]
            ),
            (
                "buckets",
                .array(
                    c.buckets.map {
                        [
                            "bucket": .string($0.bucket), "allocation": .double($0.allocation),
                            "tge_unlock_pct": .double($0.tgeUnlockPct), "cliff_months": .integer($0.cliffMonths),
                            "vesting_months": .integer($0.vestingMonths),
                        ]
                    })
            ),
            (
                "behaviors",
                [
                    "cliff_shock": [
                        "enabled": .bool(c.cliffShock.enabled), "multiplier": .double(c.cliffShock.multiplier),
                        "buckets": .strings(c.cliffShock.buckets),
                    ],
                    "price_trigger": [
                        "enabled": .bool(c.priceTrigger.enabled), "source": .string(c.priceTrigger.source.rawValue),
                        "scenario": .str(c.priceTrigger.scenario?.rawValue),
                        "uploaded_price_series": .array(
                            (c.priceTrigger.uploadedPriceSeries ?? []).map { [.integer($0.month), .double($0.price)] }),
                    ],
                    "relock": [
                        "enabled": .bool(c.relock.enabled), "relock_pct": .double(c.relock.relockPct),
                        "lock_duration_months": .integer(c.relock.lockDurationMonths),
                    ],
                ]
            ),
        ])
    }

    struct Output {
        var buckets: [V1Result.BucketRow]
        var globals: [V1Result.GlobalRow]
    }

    /// Reference price for triggers (P0 = 1.0) at month m.
    static func triggerPrice(_ t: V1Config.PriceTrigger, month m: Int) -> Double {
        guard t.enabled else { return 1 }
        switch t.source {
        case .flat: return 1
        case .scenario:
            switch t.scenario {
            case .uptrend: return pow(1.05, Double(m))
            case .downtrend: return pow(0.95, Double(m))
            case .volatile: return m % 2 == 0 ? 1.10 : 0.90
            case nil: return 1
            }
        case .csv:
            var price = 1.0
            var bestMonth = Int.min
            for (month, p) in t.uploadedPriceSeries ?? [] where month <= m && month >= bestMonth {
                bestMonth = month
                price = p
            }
            return price
        }
    }

    static func isTreasuryBucket(_ name: String) -> Bool { name.lowercased() == "treasury" }

    /// Each bucket's tier-3 cohort profile, in bucket order: the last mapping of a bucket wins, the first
    /// profile of a name wins (as the original's dict building did). Built once per run in linear time: a
    /// lookup per bucket and month made 1000-bucket Monte Carlo runs quadratic.
    static func cohortProfiles(_ c: V1Config) -> [V1Config.CohortProfile?] {
        guard c.token.simulationMode == .tier3, c.cohortBehavior.enabled else {
            return Array(repeating: nil, count: c.buckets.count)
        }
        var mapping: [String: String] = [:]
        for m in c.cohortBehavior.bucketCohortMapping { mapping[m.name] = m.value }
        var profiles: [String: V1Config.CohortProfile] = [:]
        for p in c.cohortBehavior.profiles where profiles[p.name] == nil { profiles[p.name] = p.value }
        return c.buckets.map { b in mapping[b.bucket].flatMap { profiles[$0] } }
    }

    /// One deterministic run. `sellOverride` replaces each bucket's base sell pressure (Monte Carlo noise).
    /// A run that `isCancelled` stops returns the months done so far; the caller throws.
    static func deterministic(_ c: V1Config, sellOverride: [Double]? = nil, isCancelled: () -> Bool = { false }) -> Output {
        let h = c.token.horizonMonths
        let supply = c.token.totalSupply
        let dynamic = c.token.simulationMode != .tier1
        let pricingOn = dynamic && c.pricing.enabled
        let stakingOn = dynamic && c.staking.enabled && c.staking.lockupMonths > 0
        let treasuryOn = dynamic && c.treasury.enabled
        let schedules = c.buckets.map {
            VestingSchedule(
                allocation: c.allocationTokens($0), tgePct: $0.tgeUnlockPct, cliff: $0.cliffMonths,
                vesting: $0.vestingMonths)
        }
        let shockSet = Set(c.cliffShock.buckets)
        let cohortProfiles = cohortProfiles(c)
        var relocks = [[Double]](repeating: [Double](repeating: 0, count: h + 1), count: c.buckets.count)
        var stakeReturns = [Double](repeating: 0, count: h + 1)
        var stakePrincipal = [Double](repeating: 0, count: h + 1)
        var cumUnlocked = [Double](repeating: 0, count: c.buckets.count)
        var cumSold = [Double](repeating: 0, count: c.buckets.count)
        var outstandingStake = 0.0
        var treasuryBalance = 0.0
        var liquidityTotal = 0.0
        var returnsSold = 0.0
        var prevCirc = 0.0
        var bucketRows: [V1Result.BucketRow] = []
        bucketRows.reserveCapacity(c.buckets.count * (h + 1))
        var globals: [V1Result.GlobalRow] = []
        let split = c.treasury.holdPct + c.treasury.liquidityPct + c.treasury.buybackPct

        for m in 0...h {
            if isCancelled() { break }
            let date = c.token.startDate.adding(months: m)
            var price = triggerPrice(c.priceTrigger, month: m)
            var reference = price
            if pricingOn {
                let p0 = c.pricing.initialPrice
                let e = c.pricing.bondingCurveParam
                let ratio = supply > 0 ? prevCirc / supply : 0
                switch c.pricing.pricingModel {
                case .constant: price = p0
                case .linear: price = max(0.01, p0 * (1 - e * ratio))
                case .bondingCurve: price = max(0.01, p0 * pow(1 - min(max(ratio, 0), 1), e))
                }
                reference = price / p0
            }
            // D33: inclusive thresholds in both engines.
            let triggered =
                c.priceTrigger.enabled
                && (reference - 1 >= c.priceTrigger.takeProfit || reference - 1 <= c.priceTrigger.stopLoss)
            let level = c.sellPressureLevel.pressure
            var monthUnlocked = 0.0
            var monthSell = 0.0
            var liquidityThisMonth = 0.0

            // Matured stakes come back to their holders, who sell them at the base level.
            if stakingOn && stakeReturns[m] > 0 {
                outstandingStake = max(0, outstandingStake - stakePrincipal[m])
                let sold = stakeReturns[m] * level
                monthSell += sold
                returnsSold += sold
            }

            for (b, bucket) in c.buckets.enumerated() {
                let u = schedules[b].unlock(at: m)
                var free = u
                if c.relock.enabled && m > 0 {
                    let relocked = u * c.relock.relockPct
                    free -= relocked
                    let due = m + c.relock.lockDurationMonths
                    if due <= h { relocks[b][due] += relocked }
                }
                free += relocks[b][m]
                cumUnlocked[b] += u
                monthUnlocked += u

                let profile = cohortProfiles[b]
                var pressure = sellOverride?[b] ?? profile.map { $0.sellPressureMean * (1 - $0.holdProbability) } ?? level
                if triggered { pressure = min(1, pressure + c.priceTrigger.extraSellAddon) }
                if c.cliffShock.enabled, bucket.cliffMonths > 0, m == bucket.cliffMonths, shockSet.contains(bucket.bucket) {
                    pressure = min(1, pressure * c.cliffShock.multiplier)
                }

                var sell = 0.0
                if dynamic && isTreasuryBucket(bucket.bucket) {
                    pressure = 0
                    if treasuryOn && split > 0 {
                        let liquidity = free * c.treasury.liquidityPct / split
                        liquidityThisMonth += liquidity
                        treasuryBalance += free * c.treasury.holdPct / split
                    } else {
                        treasuryBalance += free
                    }
                } else {
                    var staked = 0.0
                    if stakingOn {
                        let participation = profile?.stakeProbability ?? c.staking.participationRate
                        let room = max(0, c.staking.maxCapacityPct * supply - outstandingStake)
                        staked = min(free * participation, room)
                        if staked > 0 {
                            var reward = staked * c.staking.apy * Double(c.staking.lockupMonths) / 12
                            if c.staking.rewardSource == "treasury" {
                                reward = min(reward, treasuryBalance)
                                treasuryBalance -= reward
                            }
                            outstandingStake += staked
                            let due = m + c.staking.lockupMonths
                            if due <= h {
                                stakeReturns[due] += staked + reward
                                stakePrincipal[due] += staked
                            }
                        }
                    }
                    sell = (free - staked) * pressure
                }
                cumSold[b] += sell
                monthSell += sell
                let alloc = c.allocationTokens(bucket)
                bucketRows.append(
                    .init(
                        monthIndex: m, date: date, bucket: bucket.bucket, allocationTokens: alloc, unlockedThisMonth: u,
                        unlockedCumulative: cumUnlocked[b], lockedRemaining: max(0, alloc - cumUnlocked[b]),
                        sellPressureEffective: pressure, expectedSellThisMonth: sell,
                        expectedCirculatingCumulative: cumSold[b]))
            }
            liquidityTotal += liquidityThisMonth
            let circulating = cumSold.reduce(0, +) + returnsSold + liquidityTotal
            var daily: Double?
            if dynamic && c.volume.enabled {
                var settings = VolumeSettings()
                settings.volumeModel = c.volume.volumeModel
                settings.baseDailyVolume = c.volume.baseDailyVolume
                settings.volumeMultiplier = c.volume.volumeMultiplier
                let v = VolumeController(settings: settings, totalSupply: supply)
                daily = v.dailyVolume(circulating: prevCirc)
            } else if let avg = c.avgDailyVolumeTokens, avg > 0 {
                daily = avg
            } else if dynamic {
                // The original's tier-2/3 default daily volume.
                daily = 1_000_000
            }
            globals.append(
                .init(
                    monthIndex: m, date: date, totalUnlocked: monthUnlocked, totalExpectedSell: monthSell,
                    expectedCirculatingTotal: circulating, expectedCirculatingPct: supply > 0 ? circulating / supply : 0,
                    sellVolumeRatio: daily.flatMap { $0 > 0 ? monthSell / ($0 * 30) : nil },
                    // Tiers 2 and 3 always report the economy's state: 0.0 when a feature is off (D30).
                    currentPrice: dynamic ? price : nil, stakedAmount: dynamic ? outstandingStake : nil,
                    liquidityDeployed: dynamic ? liquidityThisMonth : nil,
                    treasuryBalance: dynamic ? treasuryBalance : nil))
            prevCirc = circulating
        }
        return Output(buckets: bucketRows, globals: globals)
    }

    /// Noise scale per variance level (D29: the original ignored `variance_level`).
    static func noiseScale(_ level: VarianceLevel) -> Double {
        switch level {
        case .low: return 0.5
        case .medium: return 1
        case .high: return 2
        }
    }

    /// Tier-3 Monte Carlo (spec 8.6): trial t uses seed `seed + t` (or t when no seed is given).
    static func monteCarlo(_ c: V1Config, maxConcurrency: Int, isCancelled: @escaping @Sendable () -> Bool) -> [V1Result.GlobalRow] {
        let n = c.monteCarlo.numTrials
        let scale = noiseScale(c.monteCarlo.varianceLevel)
        let base = UInt32(truncatingIfNeeded: c.monteCarlo.seed ?? 0)
        let slots = V1TrialSlots(count: n)
        let trial = { @Sendable (t: Int) in
            if isCancelled() { return }
            var rng = MersenneTwister(seed: base &+ UInt32(truncatingIfNeeded: t))
            var noisy = c
            for b in noisy.buckets.indices {
                let cliff = Double(noisy.buckets[b].cliffMonths) + rng.normal(mean: 0, std: 0.15 * scale)
                noisy.buckets[b].cliffMonths = Int(max(0, cliff).rounded(.towardZero))
                noisy.buckets[b].tgeUnlockPct = min(100, max(0, noisy.buckets[b].tgeUnlockPct + rng.normal(mean: 0, std: 0.5 * scale)))
                let vesting = Double(noisy.buckets[b].vestingMonths) + rng.normal(mean: 0, std: 0.2 * scale)
                noisy.buckets[b].vestingMonths = Int(max(0, vesting).rounded(.towardZero))
            }
            let sell = min(0.95, max(0.05, c.sellPressureLevel.pressure + rng.normal(mean: 0, std: 0.005 * scale)))
            noisy.sellPressureLevel = sell < 0.175 ? .low : (sell < 0.375 ? .medium : .high)
            var overrides: [Double]?
            if c.token.simulationMode == .tier3 && c.cohortBehavior.enabled {
                let profiles = cohortProfiles(c)
                overrides = noisy.buckets.indices.map { b in
                    guard let p = profiles[b] else { return noisy.sellPressureLevel.pressure }
                    let s = min(1, max(0, rng.normal(mean: p.sellPressureMean, std: p.sellPressureStd * scale)))
                    return s * (1 - p.holdProbability)
                }
            }
            slots.set(t, deterministic(noisy, sellOverride: overrides, isCancelled: isCancelled).globals)
        }
        if maxConcurrency == 1 {
            for t in 0..<n { trial(t) }
        } else {
            ParallelLoop.run(n, trial)
        }
        let trials = slots.values()
        guard let first = trials.first, !isCancelled() else { return [] }
        return first.indices.map { m in
            func column(_ f: (V1Result.GlobalRow) -> Double?) -> [Double] { trials.map { f($0[m]) ?? 0 } }
            func band(_ x: [Double]) -> V1Result.Band {
                let s = x.sorted()
                return .init(
                    p10: Statistics.percentile(sorted: s, 10), p90: Statistics.percentile(sorted: s, 90),
                    median: Statistics.percentile(sorted: s, 50), std: Statistics.std(x, ddof: 1))
            }
            let unlocked = column(\.totalUnlocked)
            let sell = column(\.totalExpectedSell)
            let circ = column(\.expectedCirculatingTotal)
            let price = column(\.currentPrice)
            func meanOrNil(_ f: (V1Result.GlobalRow) -> Double?) -> Double? {
                trials.contains(where: { f($0[m]) != nil }) ? Statistics.mean(column(f)) : nil
            }
            return V1Result.GlobalRow(
                monthIndex: m, date: first[m].date, totalUnlocked: Statistics.mean(unlocked),
                totalExpectedSell: Statistics.mean(sell), expectedCirculatingTotal: Statistics.mean(circ),
                expectedCirculatingPct: Statistics.mean(column(\.expectedCirculatingPct)),
                sellVolumeRatio: meanOrNil(\.sellVolumeRatio), currentPrice: meanOrNil(\.currentPrice),
                stakedAmount: meanOrNil(\.stakedAmount), liquidityDeployed: meanOrNil(\.liquidityDeployed),
                treasuryBalance: meanOrNil(\.treasuryBalance), totalUnlockedBand: band(unlocked),
                totalExpectedSellBand: band(sell), expectedCirculatingTotalBand: band(circ),
                currentPriceBand: first[m].currentPrice == nil ? nil : band(price))
        }
    }
}

final class V1TrialSlots: Sendable {
    private let storage: Mutex<[[V1Result.GlobalRow]?]>
    init(count: Int) { storage = Mutex(Array(repeating: nil, count: count)) }
    func set(_ i: Int, _ rows: [V1Result.GlobalRow]) { storage.withLock { $0[i] = rows } }
    func values() -> [[V1Result.GlobalRow]] { storage.withLock { $0.compactMap { $0 } } }
}

import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif
