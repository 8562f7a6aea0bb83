/// Turns a request body into an `ABMRequest`, reporting every problem at once with its field path
/// (spec 4.1, plus the checks that fix D9, D10, D11, D22 and D35).
public enum ABMRequestDecoder {
    public static func decode(bytes: [UInt8]) -> Result<ABMRequest, ValidationFailure> {
        switch parseBody(bytes) {
        case .failure(let f): return .failure(f)
        case .success(let v): return decode(v)
        }
    }

    /// Parses a body; malformed JSON becomes one `json_invalid` issue at the character offset.
    public static func parseBody(_ bytes: [UInt8]) -> Result<JSONValue, ValidationFailure> {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            return .failure(ValidationFailure([ValidationIssue(type: "missing", loc: [], msg: "Field required", input: .null)]))
        }
        do {
            return .success(try JSONParser.parse(bytes))
        } catch {
            return .failure(
                ValidationFailure([
                    ValidationIssue(
                        type: "json_invalid", loc: [.index(error.offset)], msg: "JSON decode error", input: [:],
                        ctx: ["error": .string(error.message)])
                ]))
        }
    }

    /// The body as an object, or the issue the original reports for a non-object body.
    static func rootObject(_ v: JSONValue, issues: IssueCollector) -> FieldReader? {
        switch v {
        case .object(let o): return FieldReader(o, path: [], issues: issues)
        case .null: issues.add("missing", [], "Field required", input: .null)
        default:
            issues.add(
                "model_attributes_type", [], "Input should be a valid dictionary or object to extract fields from",
                input: v)
        }
        return nil
    }

    public static func decode(_ v: JSONValue) -> Result<ABMRequest, ValidationFailure> {
        let issues = IssueCollector()
        guard let root = rootObject(v, issues: issues) else { return .failure(issues.failure) }
        let request = decode(root)
        if let request, issues.isEmpty { return .success(request) }
        return .failure(issues.failure)
    }

    /// Decodes from a reader positioned at the request object (also used for `{"config": ...}` wrappers).
    public static func decode(_ root: FieldReader) -> ABMRequest? {
        let issues = root.issues
        let before = issues.count
        let token = root.object("token").flatMap(decodeToken)
        let buckets = decodeBuckets(root)
        var abm: ABMSettings?
        switch root.nullableObject("abm") {
        case .some(.some(let r)): abm = decodeABM(r)
        case .some(.none): abm = ABMSettings()
        case .none: abm = nil
        }
        var profiles: [CohortProfileOverride]? = nil
        var profilesOK = true
        switch root.nullableDict("cohort_profiles") {
        case .some(.some(let o)):
            profiles = decodeProfiles(o, root: root)
            profilesOK = profiles != nil
        case .some(.none): break
        case .none: profilesOK = false
        }
        var mc: MonteCarloSettings? = nil
        var mcOK = true
        switch root.nullableObject("monte_carlo") {
        case .some(.some(let r)):
            mc = decodeMonteCarlo(r)
            mcOK = mc != nil
        case .some(.none): break
        case .none: mcOK = false
        }
        guard let token, let buckets, let abm, profilesOK, mcOK, issues.count == before else { return nil }
        let request = ABMRequest(token: token, buckets: buckets, abm: abm, cohortProfiles: profiles, monteCarlo: mc)
        checkPopulation(request, root: root)
        return issues.count == before ? request : nil
    }

    static func decodeToken(_ r: FieldReader) -> TokenSpec? {
        let name = r.string("name", minLength: 1, maxLength: ABMLimits.maxNameLength)
        let supply = r.double("total_supply", .positive)
        var date: SimDate?
        if let s = r.string("start_date") {
            if case .success(let d) = SimDate.parse(s) {
                date = d
            } else {
                r.valueError("start_date", "start_date must be in YYYY-MM-DD format", input: .string(s))
            }
        }
        let horizon = r.int("horizon_months", .range(1, 240))
        var price: Double? = 1.0
        switch r.nullableDouble("initial_price", .positive) {
        case .some(.some(let p)): price = p
        case .some(.none): price = 1.0
        case .none: price = nil
        }
        var mode: String? = "abm"
        switch r.nullableString("simulation_mode") {
        case .some(.some(let m)): mode = m
        case .some(.none): mode = "abm"
        case .none: mode = nil
        }
        guard let name, let supply, let date, let horizon, let price, let mode else { return nil }
        return TokenSpec(
            name: name, totalSupply: supply, startDate: date, horizonMonths: horizon, initialPrice: price,
            simulationMode: mode)
    }

    static func decodeBuckets(_ root: FieldReader) -> [BucketSpec]? {
        guard let items = root.list("buckets") else { return nil }
        // The count first: a list past the bound is refused before any of its items is looked at.
        if items.count > 1000 {
            root.valueError("buckets", "Too many buckets (\(items.count)). Maximum allowed is 1000.", input: .array(items))
            return nil
        }
        let issues = root.issues
        let before = issues.count
        var out: [BucketSpec] = []
        for (i, item) in items.enumerated() {
            let loc: [ValidationIssue.PathComponent] = root.path + [.key("buckets"), .index(i)]
            guard case .object(let o) = item else {
                issues.add(
                    "model_type", loc, "Input should be a valid dictionary or instance of BucketConfig", input: item)
                continue
            }
            let r = FieldReader(o, path: loc, issues: issues)
            let name = r.string("bucket", minLength: 1, maxLength: ABMLimits.maxNameLength)
            let alloc = r.double("allocation", .range(0, 100))
            let tge = r.double("tge_unlock_pct", .range(0, 100))
            let cliff = r.int("cliff_months", .range(0, 1200))
            let vesting = r.int("vesting_months", .range(0, 1200))
            let holders = r.nullableInt("num_holders", .range(1, 1_000_000_000))
            if let name, let alloc, let tge, let cliff, let vesting, let holders {
                out.append(
                    BucketSpec(
                        bucket: name, allocation: alloc, tgeUnlockPct: tge, cliffMonths: cliff,
                        vestingMonths: vesting, numHolders: holders))
            }
        }
        guard issues.count == before else { return nil }
        if out.isEmpty {
            root.valueError("buckets", "At least one bucket must be provided", input: .array(items))
            return nil
        }
        if out.count > 1000 {
            root.valueError("buckets", "Too many buckets (\(out.count)). Maximum allowed is 1000.", input: .array(items))
            return nil
        }
        var total = 0.0
        for b in out { total += b.allocation }
        if total > 100.01 {
            root.valueError("buckets", "Total allocation (\(PythonFormat.float(total))%) exceeds 100%", input: .array(items))
            return nil
        }
        var seen: [String: Int] = [:]
        for (i, b) in out.enumerated() {
            if let first = seen[b.bucket] {
                issues.add(
                    "value_error", root.path + [.key("buckets"), .index(i), .key("bucket")],
                    "Value error, Duplicate bucket name '\(b.bucket)' (also bucket \(first)); bucket names must be unique",
                    input: .string(b.bucket), ctx: ["error": [:]])
            } else {
                seen[b.bucket] = i
            }
        }
        return issues.count == before ? out : nil
    }

    static func decodeABM(_ r: FieldReader) -> ABMSettings? {
        let before = r.issues.count
        var a = ABMSettings()
        if let g: AgentGranularity = r.choice("agent_granularity", default: .adaptive) { a.agentGranularity = g }
        a.agentsPerCohortExplicit = r.given("agents_per_cohort")
        if case .some(.some(let n)) = r.nullableInt("agents_per_cohort", .range(1, 1000)) { a.agentsPerCohort = n }
        let model: PricingModel? = r.choice("pricing_model", default: .eoe)
        if let model { a.pricing.model = model }
        if let pr = r.object("pricing_config", required: false) {
            if let model { decodePricing(pr, model: model, into: &a.pricing) }
        } else if r.has("pricing_config") {
            // `object` already reported a non-object; null is reported here, since the field is not nullable.
            if r.object["pricing_config"] == .null {
                r.issues.add("dict_type", r.loc("pricing_config"), "Input should be a valid dictionary", input: .null)
            }
        }
        if let b = r.bool("enable_staking", default: false) { a.enableStaking = b }
        if case .some(.some(let s)) = r.nullableObject("staking_config") { a.staking = decodeStaking(s) }
        if let b = r.bool("enable_treasury", default: false) { a.enableTreasury = b }
        if case .some(.some(let t)) = r.nullableObject("treasury_config") { a.treasury = decodeTreasury(t) }
        if let b = r.bool("enable_volume", default: false) { a.enableVolume = b }
        if case .some(.some(let v)) = r.nullableObject("volume_config") { a.volume = decodeVolume(v) }
        if case .some(.some(let m)) = r.nullableDict("bucket_cohort_mapping") {
            var mapping: [NamedValue<String>] = []
            for e in m.entries {
                guard case .string(let preset) = e.value else {
                    r.issues.add(
                        "string_type", r.loc("bucket_cohort_mapping") + [.key(e.key)], "Input should be a valid string",
                        input: e.value)
                    continue
                }
                mapping.append(NamedValue(e.key, preset))
            }
            a.bucketCohortMapping = mapping
        }
        if let b = r.bool("store_cohort_details", default: true) { a.storeCohortDetails = b }
        if let l: AggregationLevel = r.choice("aggregation_level", default: .cohort) { a.aggregationLevel = l }
        if case .some(.some(let s)) = r.nullableInt("seed", .range(0, 4_294_967_295)) { a.seed = UInt32(s) }
        return r.issues.count == before ? a : nil
    }

    static func decodePricing(_ r: FieldReader, model: PricingModel, into p: inout PricingSettings) {
        let price = FieldReader.Bounds.positive
        switch model {
        case .eoe:
            p.holdingTime = r.double("holding_time", default: 6.0, .positive) ?? p.holdingTime
            p.smoothingFactor = r.double("smoothing_factor", default: 0.7, .fraction) ?? p.smoothingFactor
            p.minPrice = r.double("min_price", default: 0.01, price) ?? p.minPrice
        case .bondingCurve:
            if case .some(.some(let v)) = r.nullableDouble("initial_price", price) { p.initialPrice = v }
            p.initialSupply = r.double("initial_supply", default: 1_000_000, .positive) ?? p.initialSupply
            p.curveExponent = r.double("curve_exponent", default: 2.0, .range(0, 10)) ?? p.curveExponent
            p.minPrice = r.double("min_price", default: 0.01, price) ?? p.minPrice
        case .issuanceCurve:
            if case .some(.some(let v)) = r.nullableDouble("initial_price", price) { p.initialPrice = v }
            p.maxSupply = r.double("max_supply", default: 1_000_000_000, .positive) ?? p.maxSupply
            p.alpha = r.double("alpha", default: 0.5, .range(0, 10)) ?? p.alpha
            p.minPrice = r.double("min_price", default: 0.01, price) ?? p.minPrice
        case .constant:
            if case .some(.some(let v)) = r.nullableDouble("price", price) { p.price = v }
        }
    }

    static func decodeStaking(_ r: FieldReader) -> StakingSettings {
        var s = StakingSettings()
        s.baseAPY = r.double("base_apy", default: 0.12, .range(0, 10)) ?? s.baseAPY
        s.maxCapacityPct = r.double("max_capacity_pct", default: 0.5, .fraction) ?? s.maxCapacityPct
        s.lockupMonths = r.int("lockup_months", default: 6, .range(0, 240)) ?? s.lockupMonths
        s.rewardSource = r.choice("reward_source", default: RewardSource.emission) ?? s.rewardSource
        s.apyMultiplierAtEmpty = r.double("apy_multiplier_at_empty", default: 1.5, .range(0, 100)) ?? s.apyMultiplierAtEmpty
        s.apyMultiplierAtFull = r.double("apy_multiplier_at_full", default: 0.5, .range(0, 100)) ?? s.apyMultiplierAtFull
        return s
    }

    static func decodeTreasury(_ r: FieldReader) -> TreasurySettings {
        var t = TreasurySettings()
        let before = r.issues.count
        t.initialBalancePct = r.double("initial_balance_pct", default: 0.15, .fraction) ?? t.initialBalancePct
        t.transactionFeePct = r.double("transaction_fee_pct", default: 0.02, .fraction) ?? t.transactionFeePct
        t.holdPct = r.double("hold_pct", default: 0.5, .fraction) ?? t.holdPct
        t.liquidityPct = r.double("liquidity_pct", default: 0.3, .fraction) ?? t.liquidityPct
        t.buybackPct = r.double("buyback_pct", default: 0.2, .fraction) ?? t.buybackPct
        t.burnBoughtTokens = r.bool("burn_bought_tokens", default: true) ?? t.burnBoughtTokens
        let sum = t.holdPct + t.liquidityPct + t.buybackPct
        if r.issues.count == before, abs(sum - 1) > 0.01 {
            r.valueError(nil, "Treasury allocation percentages must sum to 1.0, got \(PythonFormat.fixed(sum, 2))")
        }
        return t
    }

    static func decodeVolume(_ r: FieldReader) -> VolumeSettings {
        var v = VolumeSettings()
        v.volumeModel = r.choice("volume_model", default: VolumeModel.proportional) ?? v.volumeModel
        v.baseDailyVolume = r.double("base_daily_volume", default: 10_000_000, .positive) ?? v.baseDailyVolume
        v.volumeMultiplier = r.double("volume_multiplier", default: 1.0, .range(0.1, 100)) ?? v.volumeMultiplier
        return v
    }

    static func decodeProfiles(_ o: JSONObject, root: FieldReader) -> [CohortProfileOverride]? {
        let before = root.issues.count
        var out: [CohortProfileOverride] = []
        for e in o.entries {
            let loc: [ValidationIssue.PathComponent] = root.path + [.key("cohort_profiles"), .key(e.key)]
            guard case .object(let po) = e.value else {
                root.issues.add(
                    "model_type", loc, "Input should be a valid dictionary or instance of CohortProfileOverride",
                    input: e.value)
                continue
            }
            let r = FieldReader(po, path: loc, issues: root.issues)
            var p = CohortProfileOverride(cohort: e.key)
            if case .some(let v) = r.nullableDouble("sell_pressure_mean", .fraction) { p.sellPressureMean = v }
            if case .some(let v) = r.nullableDouble("sell_pressure_std", .range(0, 0.5)) { p.sellPressureStd = v }
            if case .some(let v) = r.nullableDouble("stake_probability", .fraction) { p.stakeProbability = v }
            if case .some(let v) = r.nullableDouble("risk_tolerance_mean", .fraction) { p.riskToleranceMean = v }
            out.append(p)
        }
        return root.issues.count == before ? out : nil
    }

    static func decodeMonteCarlo(_ r: FieldReader) -> MonteCarloSettings? {
        let before = r.issues.count
        var m = MonteCarloSettings()
        m.enabled = r.bool("enabled", default: false) ?? false
        m.numTrials = r.int("num_trials", default: 100, .range(10, 1000)) ?? m.numTrials
        m.varianceLevel = r.choice("variance_level", default: VarianceLevel.medium) ?? m.varianceLevel
        if case .some(.some(let s)) = r.nullableInt("seed", .range(0, 4_294_967_295)) { m.seed = UInt32(s) }
        if let v = r.object["confidence_levels"], !v.isNull {
            if let list = r.list("confidence_levels") {
                if list.isEmpty {
                    r.issues.add(
                        "too_short", r.loc("confidence_levels"),
                        "List should have at least 1 item after validation, not 0", input: .array(list),
                        ctx: ["field_type": "List", "min_length": 1, "actual_length": 0])
                } else {
                    var levels: [Int] = []
                    for (i, item) in list.enumerated() {
                        let loc = r.loc("confidence_levels") + [.index(i)]
                        if let n = FieldReader.coerceInt(item, loc: loc, issues: r.issues),
                            FieldReader.check(Double(n), .range(0, 100), loc: loc, input: item, issues: r.issues)
                        {
                            levels.append(n)
                        }
                    }
                    m.confidenceLevels = levels
                }
            }
        }
        return r.issues.count == before ? m : nil
    }

    /// Population limits that need the whole request: D9 (no unbounded `full_individual`) and the size of
    /// `aggregation_level: full` snapshots.
    static func checkPopulation(_ request: ABMRequest, root: FieldReader) {
        let plan = PopulationPlan(request)
        if plan.totalAgents > ABMLimits.maxAgents {
            root.issues.add(
                "value_error", root.path + [.key("abm"), .key("agent_granularity")],
                "Value error, \(request.abm.agentGranularity.rawValue) would simulate \(plan.totalAgents) agents; the limit is \(ABMLimits.maxAgents). Use meta_agents, or set agents_per_cohort.",
                input: .string(request.abm.agentGranularity.rawValue), ctx: ["error": [:]])
        } else if request.abm.aggregationLevel == .full,
            plan.totalAgents * request.token.horizonMonths > ABMLimits.maxFullSnapshots
        {
            root.issues.add(
                "value_error", root.path + [.key("abm"), .key("aggregation_level")],
                "Value error, aggregation_level 'full' would return \(plan.totalAgents * request.token.horizonMonths) agent snapshots; the limit is \(ABMLimits.maxFullSnapshots). Use 'sampled'.",
                input: "full", ctx: ["error": [:]])
        } else if request.abm.aggregationLevel == .sampled {
            // The same cap as `full`: ten agents of each of 1000 cohorts over 240 months are 2.4 million.
            let sampled = plan.cohorts.reduce(0) { $0 + min(ABMLimits.sampledAgentsPerCohort, $1.agents) }
            if sampled * request.token.horizonMonths > ABMLimits.maxFullSnapshots {
                root.issues.add(
                    "value_error", root.path + [.key("abm"), .key("aggregation_level")],
                    "Value error, aggregation_level 'sampled' would return \(sampled * request.token.horizonMonths) agent snapshots; the limit is \(ABMLimits.maxFullSnapshots). Use 'cohort', or fewer buckets or months.",
                    input: "sampled", ctx: ["error": [:]])
            }
        }
    }
}

public enum ABMLimits {
    /// The longest token or bucket name accepted (characters).
    public static let maxNameLength = 200

    /// The most agents one simulation may hold (1000 buckets x 1000 agents per cohort).
    public static let maxAgents = 1_000_000
    /// The most agent-month snapshots `aggregation_level: full` or `sampled` may return.
    public static let maxFullSnapshots = 250_000
    /// Agents per cohort reported by `aggregation_level: sampled`.
    public static let sampledAgentsPerCohort = 10
}
