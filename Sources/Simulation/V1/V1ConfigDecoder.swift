/// Decodes `{"config": SimulationConfig}` (spec 8.1), reporting every problem with its path.
public enum V1ConfigDecoder {
    public static func decode(bytes: [UInt8]) -> Result<V1Config, ValidationFailure> {
        switch ABMRequestDecoder.parseBody(bytes) {
        case .failure(let f): return .failure(f)
        case .success(let v): return decode(v)
        }
    }

    public static func decode(_ v: JSONValue) -> Result<V1Config, ValidationFailure> {
        let issues = IssueCollector()
        guard let root = ABMRequestDecoder.rootObject(v, issues: issues) else {
            return .failure(issues.failure)
        }
        let config = root.object("config").flatMap(decodeConfig)
        if let config, issues.isEmpty { return .success(config) }
        return .failure(issues.failure)
    }

    static func decodeConfig(_ r: FieldReader) -> V1Config? {
        let before = r.issues.count
        let token = r.object("token").flatMap(decodeToken)
        var config: V1Config?
        let buckets = decodeBuckets(r)
        if let token, let buckets { config = V1Config(token: token, buckets: buckets) }
        var c = config ?? V1Config(
            token: .init(name: "", totalSupply: 0, startDate: SimDate(year: 2000, month: 1, day: 1)!, horizonMonths: 0),
            buckets: [])
        if case .some(.some(let a)) = r.nullableObject("assumptions") {
            c.sellPressureLevel = a.choice("sell_pressure_level", default: V1Config.SellLevel.medium) ?? .medium
            if case .some(let v) = a.nullableDouble("avg_daily_volume_tokens", .nonNegative) { c.avgDailyVolumeTokens = v }
        }
        if case .some(.some(let b)) = r.nullableObject("behaviors") { decodeBehaviors(b, into: &c) }
        if case .some(.some(let t)) = r.nullableObject("tier2") { decodeTier2(t, into: &c) }
        if case .some(.some(let t)) = r.nullableObject("tier3") { decodeTier3(t, into: &c) }
        guard r.issues.count == before, config != nil else { return nil }
        // Model validator on allocations (spec 8.1).
        let sum = c.buckets.reduce(0) { $0 + $1.allocation }
        switch c.token.allocationMode {
        case .percent where sum > 100.01:
            r.valueError(nil, "Allocation sum (\(PythonFormat.float(sum))%) exceeds 100%")
        case .tokens where sum > c.token.totalSupply:
            r.valueError(
                nil,
                "Allocation sum (\(PythonFormat.grouped(sum))) exceeds total supply (\(PythonFormat.grouped(c.token.totalSupply)))")
        default: break
        }
        var seen: [String: Int] = [:]
        for (i, b) in c.buckets.enumerated() {
            if let first = seen[b.bucket] {
                r.issues.add(
                    "value_error", r.path + [.key("buckets"), .index(i), .key("bucket")],
                    "Value error, Duplicate bucket name '\(b.bucket)' (also bucket \(first)); bucket names must be unique",
                    input: .string(b.bucket), ctx: ["error": [:]])
            } else {
                seen[b.bucket] = i
            }
        }
        return r.issues.count == before ? c : nil
    }

    static func decodeToken(_ r: FieldReader) -> V1Config.Token? {
        let name = r.string("name", minLength: 1, maxLength: 100)
        let supply = r.int("total_supply", .nonNegative)
        var date: SimDate?
        if let s = r.string("start_date") {
            switch SimDate.parse(s) {
            case .success(let d): date = d
            case .failure(.format):
                r.issues.add(
                    "string_pattern_mismatch", r.loc("start_date"), "String should match pattern '^\\d{4}-\\d{2}-\\d{2}$'",
                    input: .string(s), ctx: ["pattern": "^\\d{4}-\\d{2}-\\d{2}$"])
            case .failure(.monthOutOfRange):
                r.valueError("start_date", "month must be in 1..12", input: .string(s))
            case .failure(.dayOutOfRange):
                r.valueError("start_date", "day is out of range for month", input: .string(s))
            }
        }
        let horizon = r.int("horizon_months", .range(0, 240))
        let mode: V1Config.AllocationMode? = r.choice("allocation_mode", default: .percent, type: "literal_error")
        let tier: V1Config.Tier? = r.choice("simulation_mode", default: .tier1, type: "literal_error")
        guard let name, let supply, let date, let horizon, let mode, let tier else { return nil }
        return V1Config.Token(
            name: name, totalSupply: Double(supply), startDate: date, horizonMonths: horizon, allocationMode: mode,
            simulationMode: tier)
    }

    static func decodeBuckets(_ r: FieldReader) -> [V1Config.Bucket]? {
        guard let items = r.list("buckets") else { return nil }
        if items.isEmpty || items.count > 1000 {
            let short = items.isEmpty
            r.issues.add(
                short ? "too_short" : "too_long", r.loc("buckets"),
                short
                    ? "List should have at least 1 item after validation, not 0"
                    : "List should have at most 1000 items after validation, not \(items.count)",
                input: .array(items),
                ctx: ["field_type": "List", short ? "min_length" : "max_length": short ? 1 : 1000, "actual_length": .int(Int64(items.count))])
            return nil
        }
        let before = r.issues.count
        var out: [V1Config.Bucket] = []
        for (i, item) in items.enumerated() {
            let loc = r.loc("buckets") + [.index(i)]
            guard case .object(let o) = item else {
                r.issues.add("model_type", loc, "Input should be a valid dictionary or instance of BucketConfig", input: item)
                continue
            }
            let b = FieldReader(o, path: loc, issues: r.issues)
            let name = b.string("bucket", minLength: 1, maxLength: ABMLimits.maxNameLength)
            let alloc = b.double("allocation", .nonNegative)
            let tge = b.double("tge_unlock_pct", .range(0, 100))
            let cliff = b.int("cliff_months", .range(0, 1200))
            let vesting = b.int("vesting_months", .range(0, 1200))
            if let v = o["unlock_type"], v != "linear" {
                b.issues.add("literal_error", loc + [.key("unlock_type")], "Input should be 'linear'", input: v, ctx: ["expected": "'linear'"])
            }
            if let name, let alloc, let tge, let cliff, let vesting {
                out.append(.init(bucket: name, allocation: alloc, tgeUnlockPct: tge, cliffMonths: cliff, vestingMonths: vesting))
            }
        }
        return r.issues.count == before ? out : nil
    }

    static func decodeBehaviors(_ r: FieldReader, into c: inout V1Config) {
        if case .some(.some(let s)) = r.nullableObject("cliff_shock") {
            c.cliffShock.enabled = s.bool("enabled", default: false) ?? false
            c.cliffShock.multiplier = s.double("multiplier", default: 3.0, .range(1, 10)) ?? 3.0
            if let list = s.list("buckets", required: false) {
                c.cliffShock.buckets = list.enumerated().compactMap { i, v in
                    if case .string(let name) = v { return name }
                    s.issues.add("string_type", s.loc("buckets") + [.index(i)], "Input should be a valid string", input: v)
                    return nil
                }
            }
        }
        if case .some(.some(let p)) = r.nullableObject("price_trigger") {
            var t = V1Config.PriceTrigger()
            t.enabled = p.bool("enabled", default: false) ?? false
            t.source = p.choice("source", default: V1Config.PriceSource.flat, type: "literal_error") ?? .flat
            if let v = p.object["scenario"], !v.isNull {
                t.scenario = p.choiceValue(v, "scenario", type: "literal_error")
            }
            t.takeProfit = p.double("take_profit", default: 0.5, .range(-1, 10)) ?? 0.5
            t.stopLoss = p.double("stop_loss", default: -0.3, .range(-1, 1)) ?? -0.3
            t.extraSellAddon = p.double("extra_sell_addon", default: 0.2, .fraction) ?? 0.2
            if let v = p.object["uploaded_price_series"], !v.isNull, let list = p.list("uploaded_price_series") {
                var series: [(Int, Double)] = []
                for (i, item) in list.enumerated() {
                    let loc = p.loc("uploaded_price_series") + [.index(i)]
                    guard case .array(let pair) = item, pair.count == 2 else {
                        p.issues.add("tuple_type", loc, "Input should be a valid list of [month, price]", input: item)
                        continue
                    }
                    let month = FieldReader.coerceInt(pair[0], loc: loc + [.index(0)], issues: p.issues)
                    let price = FieldReader.coerceDouble(pair[1], loc: loc + [.index(1)], issues: p.issues)
                    if let month, let price { series.append((month, price)) }
                }
                t.uploadedPriceSeries = series
            }
            c.priceTrigger = t
        }
        if case .some(.some(let l)) = r.nullableObject("relock") {
            c.relock.enabled = l.bool("enabled", default: false) ?? false
            c.relock.relockPct = l.double("relock_pct", default: 0.3, .fraction) ?? 0.3
            c.relock.lockDurationMonths = l.int("lock_duration_months", default: 6, .range(0, 120)) ?? 6
        }
    }

    static func decodeTier2(_ r: FieldReader, into c: inout V1Config) {
        if case .some(.some(let s)) = r.nullableObject("staking") {
            c.staking.enabled = s.bool("enabled", default: false) ?? false
            c.staking.apy = s.double("apy", default: 0.12, .range(0, 10)) ?? 0.12
            c.staking.maxCapacityPct = s.double("max_capacity_pct", default: 0.5, .fraction) ?? 0.5
            c.staking.lockupMonths = s.int("lockup_months", default: 6, .range(0, 60)) ?? 6
            c.staking.participationRate = s.double("participation_rate", default: 0.3, .fraction) ?? 0.3
            c.staking.rewardSource = (s.choice("reward_source", default: V1RewardSource.treasury, type: "literal_error") ?? .treasury).rawValue
        }
        if case .some(.some(let p)) = r.nullableObject("pricing") {
            c.pricing.enabled = p.bool("enabled", default: false) ?? false
            c.pricing.pricingModel = p.choice("pricing_model", default: V1Config.V1PricingModel.bondingCurve, type: "literal_error") ?? .bondingCurve
            c.pricing.initialPrice = p.double("initial_price", default: 1.0, .positive) ?? 1.0
            if case .some(let v) = p.nullableDouble("target_price", .positive) { c.pricing.targetPrice = v }
            c.pricing.bondingCurveParam = p.double("bonding_curve_param", default: 2.0, .range(0.1, 10)) ?? 2.0
        }
        if case .some(.some(let t)) = r.nullableObject("treasury") {
            let before = t.issues.count
            c.treasury.enabled = t.bool("enabled", default: false) ?? false
            c.treasury.initialBalancePct = t.double("initial_balance_pct", default: 0.15, .fraction) ?? 0.15
            c.treasury.holdPct = t.double("hold_pct", default: 0.5, .fraction) ?? 0.5
            c.treasury.liquidityPct = t.double("liquidity_pct", default: 0.3, .fraction) ?? 0.3
            c.treasury.buybackPct = t.double("buyback_pct", default: 0.2, .fraction) ?? 0.2
            let sum = c.treasury.holdPct + c.treasury.liquidityPct + c.treasury.buybackPct
            if t.issues.count == before, abs(sum - 1) > 0.01 {
                t.valueError(nil, "Treasury percentages must sum to 1.0, got \(PythonFormat.float(sum))")
            }
        }
        if case .some(.some(let v)) = r.nullableObject("volume") {
            c.volume.enabled = v.bool("enabled", default: false) ?? false
            c.volume.volumeModel = v.choice("volume_model", default: VolumeModel.proportional, type: "literal_error") ?? .proportional
            c.volume.baseDailyVolume = v.double("base_daily_volume", default: 10_000_000, .positive) ?? 1e7
            c.volume.volumeMultiplier = v.double("volume_multiplier", default: 1.0, .range(0.1, 100)) ?? 1
        }
    }

    static func decodeTier3(_ r: FieldReader, into c: inout V1Config) {
        if case .some(.some(let cb)) = r.nullableObject("cohort_behavior") {
            c.cohortBehavior.enabled = cb.bool("enabled", default: false) ?? false
            if case .some(.some(let profiles)) = cb.nullableDict("profiles") {
                var out: [NamedValue<V1Config.CohortProfile>] = []
                for e in profiles.entries {
                    let loc = cb.loc("profiles") + [.key(e.key)]
                    guard case .object(let o) = e.value else {
                        cb.issues.add("dict_type", loc, "Input should be a valid dictionary", input: e.value)
                        continue
                    }
                    let p = FieldReader(o, path: loc, issues: cb.issues)
                    let base = V1Config.CohortBehavior.defaultProfiles.first { $0.name == e.key }?.value
                        ?? V1Config.CohortProfile(sellPressureMean: 0.3, sellPressureStd: 0.08, stakeProbability: 0.4, holdProbability: 0.1)
                    let profile = V1Config.CohortProfile(
                        sellPressureMean: p.double("sell_pressure_mean", default: base.sellPressureMean, .fraction) ?? base.sellPressureMean,
                        sellPressureStd: p.double("sell_pressure_std", default: base.sellPressureStd, .range(0, 0.5)) ?? base.sellPressureStd,
                        stakeProbability: p.double("stake_probability", default: base.stakeProbability, .fraction) ?? base.stakeProbability,
                        holdProbability: p.double("hold_probability", default: base.holdProbability, .fraction) ?? base.holdProbability)
                    out.append(NamedValue(e.key, profile))
                }
                c.cohortBehavior.profiles = out
            }
            if case .some(.some(let mapping)) = cb.nullableDict("bucket_cohort_mapping") {
                var out: [NamedValue<String>] = []
                for e in mapping.entries {
                    if case .string(let s) = e.value {
                        out.append(NamedValue(e.key, s))
                    } else {
                        cb.issues.add("string_type", cb.loc("bucket_cohort_mapping") + [.key(e.key)], "Input should be a valid string", input: e.value)
                    }
                }
                c.cohortBehavior.bucketCohortMapping = out
            }
            for m in c.cohortBehavior.bucketCohortMapping
            where !c.cohortBehavior.profiles.contains(where: { $0.name == m.value }) {
                cb.valueError("bucket_cohort_mapping", "Bucket '\(m.name)' is mapped to unknown cohort profile '\(m.value)'")
            }
        }
        if case .some(.some(let mc)) = r.nullableObject("monte_carlo") {
            c.monteCarlo.enabled = mc.bool("enabled", default: false) ?? false
            c.monteCarlo.numTrials = mc.int("num_trials", default: 100, .range(10, 10000)) ?? 100
            c.monteCarlo.varianceLevel = mc.choice("variance_level", default: VarianceLevel.medium, type: "literal_error") ?? .medium
            if case .some(let s) = mc.nullableInt("seed", .range(0, 4_294_967_295)) { c.monteCarlo.seed = s }
        }
    }
}

public enum V1RewardSource: String, CaseIterable, Sendable { case treasury, emission }
