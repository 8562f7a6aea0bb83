/// The canonical form of a validated request: every default filled in, keys in schema order.
///
/// Decoding this form gives back an equal request, so it is what a job store keeps, and its hash (with keys
/// sorted) is the result-cache key: a request that spells out defaults and one that omits them hash alike.
extension ABMRequest {
    public var canonicalJSON: JSONValue {
        var root = JSONObject()
        root["token"] = [
            "name": .string(token.name), "total_supply": .num(token.totalSupply),
            "start_date": .string(token.startDate.description), "horizon_months": .integer(token.horizonMonths),
            "initial_price": .num(token.initialPrice), "simulation_mode": .string(token.simulationMode),
        ]
        root["buckets"] = .array(
            buckets.map { b in
                [
                    "bucket": .string(b.bucket), "allocation": .num(b.allocation), "tge_unlock_pct": .num(b.tgeUnlockPct),
                    "cliff_months": .integer(b.cliffMonths), "vesting_months": .integer(b.vestingMonths),
                    "num_holders": b.numHolders.map { .integer($0) } ?? .null,
                ]
            })
        root["abm"] = abm.canonicalJSON(explicitAgents: abm.agentsPerCohortExplicit)
        root["cohort_profiles"] =
            cohortProfiles.map { list in
                .object(
                    JSONObject(
                        list.map { p in
                            (
                                p.cohort,
                                [
                                    "sell_pressure_mean": .num(p.sellPressureMean), "sell_pressure_std": .num(p.sellPressureStd),
                                    "stake_probability": .num(p.stakeProbability),
                                    "risk_tolerance_mean": .num(p.riskToleranceMean),
                                ]
                            )
                        }))
            } ?? .null
        root["monte_carlo"] =
            monteCarlo.map { m in
                [
                    "enabled": .bool(m.enabled), "num_trials": .integer(m.numTrials),
                    "variance_level": .string(m.varianceLevel.rawValue), "seed": m.seed.map { .int(Int64($0)) } ?? .null,
                    "confidence_levels": .array(m.confidenceLevels.map { .integer($0) }),
                ]
            } ?? .null
        return .object(root)
    }
}

extension ABMSettings {
    func canonicalJSON(explicitAgents: Bool) -> JSONValue {
        var o = JSONObject()
        o["agent_granularity"] = .string(agentGranularity.rawValue)
        // Absent means "not set by the client", which `adaptive` treats differently (D8).
        o["agents_per_cohort"] = explicitAgents ? .integer(agentsPerCohort) : .null
        o["pricing_model"] = .string(pricing.model.rawValue)
        var p = JSONObject()
        switch pricing.model {
        case .eoe:
            p["holding_time"] = .num(pricing.holdingTime)
            p["smoothing_factor"] = .num(pricing.smoothingFactor)
            p["min_price"] = .num(pricing.minPrice)
        case .bondingCurve:
            p["initial_price"] = .num(pricing.initialPrice)
            p["initial_supply"] = .num(pricing.initialSupply)
            p["curve_exponent"] = .num(pricing.curveExponent)
            p["min_price"] = .num(pricing.minPrice)
        case .issuanceCurve:
            p["initial_price"] = .num(pricing.initialPrice)
            p["max_supply"] = .num(pricing.maxSupply)
            p["alpha"] = .num(pricing.alpha)
            p["min_price"] = .num(pricing.minPrice)
        case .constant:
            p["price"] = .num(pricing.price)
        }
        o["pricing_config"] = .object(p)
        o["enable_staking"] = .bool(enableStaking)
        o["staking_config"] = [
            "base_apy": .num(staking.baseAPY), "max_capacity_pct": .num(staking.maxCapacityPct),
            "lockup_months": .integer(staking.lockupMonths), "reward_source": .string(staking.rewardSource.rawValue),
            "apy_multiplier_at_empty": .num(staking.apyMultiplierAtEmpty),
            "apy_multiplier_at_full": .num(staking.apyMultiplierAtFull),
        ]
        o["enable_treasury"] = .bool(enableTreasury)
        o["treasury_config"] = [
            "initial_balance_pct": .num(treasury.initialBalancePct), "transaction_fee_pct": .num(treasury.transactionFeePct),
            "hold_pct": .num(treasury.holdPct), "liquidity_pct": .num(treasury.liquidityPct),
            "buyback_pct": .num(treasury.buybackPct), "burn_bought_tokens": .bool(treasury.burnBoughtTokens),
        ]
        o["enable_volume"] = .bool(enableVolume)
        o["volume_config"] = [
            "volume_model": .string(volume.volumeModel.rawValue), "base_daily_volume": .num(volume.baseDailyVolume),
            "volume_multiplier": .num(volume.volumeMultiplier),
        ]
        o["bucket_cohort_mapping"] =
            bucketCohortMapping.map { m in .object(JSONObject(m.map { ($0.name, JSONValue.string($0.value)) })) } ?? .null
        o["store_cohort_details"] = .bool(storeCohortDetails)
        o["aggregation_level"] = .string(aggregationLevel.rawValue)
        o["seed"] = seed.map { .int(Int64($0)) } ?? .null
        return .object(o)
    }
}

extension JSONValue {
    /// The same value with every object's keys sorted, recursively (for hashing).
    public var sortedKeys: JSONValue {
        switch self {
        case .object(let o):
            return .object(JSONObject(o.entries.map { ($0.key, $0.value.sortedKeys) }.sorted { $0.0 < $1.0 }.map { (key: $0.0, value: $0.1) }))
        case .array(let a): return .array(a.map(\.sortedKeys))
        default: return self
        }
    }
}
