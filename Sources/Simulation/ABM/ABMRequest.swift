/// A validated `ABMSimulationRequest` (spec 4.1) with every default filled in.
public struct ABMRequest: Sendable, Equatable {
    public var token: TokenSpec
    public var buckets: [BucketSpec]
    public var abm: ABMSettings
    public var cohortProfiles: [CohortProfileOverride]?
    public var monteCarlo: MonteCarloSettings?

    public init(
        token: TokenSpec, buckets: [BucketSpec], abm: ABMSettings = ABMSettings(),
        cohortProfiles: [CohortProfileOverride]? = nil, monteCarlo: MonteCarloSettings? = nil
    ) {
        self.token = token
        self.buckets = buckets
        self.abm = abm
        self.cohortProfiles = cohortProfiles
        self.monteCarlo = monteCarlo
    }
}

public struct TokenSpec: Sendable, Equatable {
    public var name: String
    public var totalSupply: Double
    public var startDate: SimDate
    public var horizonMonths: Int
    /// The price the economy starts at (D6: the original ignored it and always started at 1.0).
    public var initialPrice: Double
    /// Free string; `tier1`/`tier2`/`tier3` trigger the legacy migration (spec 9).
    public var simulationMode: String

    public init(
        name: String, totalSupply: Double, startDate: SimDate, horizonMonths: Int, initialPrice: Double = 1.0,
        simulationMode: String = "abm"
    ) {
        self.name = name
        self.totalSupply = totalSupply
        self.startDate = startDate
        self.horizonMonths = horizonMonths
        self.initialPrice = initialPrice
        self.simulationMode = simulationMode
    }
}

public struct BucketSpec: Sendable, Equatable {
    public var bucket: String
    /// Percent of total supply.
    public var allocation: Double
    public var tgeUnlockPct: Double
    public var cliffMonths: Int
    public var vestingMonths: Int
    /// When given, replaces the holder estimate (D7: the original ignored it).
    public var numHolders: Int?

    public init(
        bucket: String, allocation: Double, tgeUnlockPct: Double, cliffMonths: Int, vestingMonths: Int,
        numHolders: Int? = nil
    ) {
        self.bucket = bucket
        self.allocation = allocation
        self.tgeUnlockPct = tgeUnlockPct
        self.cliffMonths = cliffMonths
        self.vestingMonths = vestingMonths
        self.numHolders = numHolders
    }
}

public enum AgentGranularity: String, Sendable, CaseIterable {
    case fullIndividual = "full_individual"
    case adaptive
    case metaAgents = "meta_agents"
}

public enum PricingModel: String, Sendable, CaseIterable {
    case eoe
    case bondingCurve = "bonding_curve"
    case issuanceCurve = "issuance_curve"
    case constant
}

public enum AggregationLevel: String, Sendable, CaseIterable {
    case cohort, sampled, full
}

public enum CohortPreset: String, Sendable, CaseIterable {
    case conservative, moderate, aggressive
}

public struct ABMSettings: Sendable, Equatable {
    public var agentGranularity: AgentGranularity = .adaptive
    public var agentsPerCohort: Int = 50
    /// Whether the client set `agents_per_cohort` itself; `adaptive` auto-selects only when it did not (D8).
    public var agentsPerCohortExplicit = false
    public var pricing = PricingSettings()
    public var enableStaking = false
    public var staking = StakingSettings()
    public var enableTreasury = false
    public var treasury = TreasurySettings()
    public var enableVolume = false
    public var volume = VolumeSettings()
    /// Bucket name to preset name, in request order. Unknown presets are kept so they can be reported.
    public var bucketCohortMapping: [NamedValue<String>]?
    public var storeCohortDetails = true
    public var aggregationLevel: AggregationLevel = .cohort
    public var seed: UInt32?

    public init() {}
}

/// A key/value pair of a JSON map whose order matters for output.
public struct NamedValue<Value: Sendable & Equatable>: Sendable, Equatable {
    public var name: String
    public var value: Value
    public init(_ name: String, _ value: Value) {
        self.name = name
        self.value = value
    }
}

public struct PricingSettings: Sendable, Equatable {
    public var model: PricingModel = .eoe
    public var holdingTime = 6.0
    public var smoothingFactor = 0.7
    public var minPrice = 0.01
    /// Curve anchor price; defaults to the token's initial price.
    public var initialPrice: Double?
    public var initialSupply = 1_000_000.0
    public var curveExponent = 2.0
    public var maxSupply = 1_000_000_000.0
    public var alpha = 0.5
    /// Constant model price; defaults to the token's initial price.
    public var price: Double?

    public init() {}
}

public enum RewardSource: String, Sendable, CaseIterable {
    case emission, treasury
}

public struct StakingSettings: Sendable, Equatable {
    public var baseAPY = 0.12
    public var maxCapacityPct = 0.5
    public var lockupMonths = 6
    public var rewardSource: RewardSource = .emission
    public var apyMultiplierAtEmpty = 1.5
    public var apyMultiplierAtFull = 0.5
    public init() {}
}

public struct TreasurySettings: Sendable, Equatable {
    public var initialBalancePct = 0.15
    public var transactionFeePct = 0.02
    public var holdPct = 0.5
    public var liquidityPct = 0.3
    public var buybackPct = 0.2
    public var burnBoughtTokens = true
    public init() {}
}

public enum VolumeModel: String, Sendable, CaseIterable {
    case proportional, constant
}

public struct VolumeSettings: Sendable, Equatable {
    public var volumeModel: VolumeModel = .proportional
    /// Tokens per day.
    public var baseDailyVolume = 10_000_000.0
    public var volumeMultiplier = 1.0
    public init() {}
}

/// Per-cohort behaviour overrides (D7: the original accepted and ignored them).
public struct CohortProfileOverride: Sendable, Equatable {
    public var cohort: String
    public var sellPressureMean: Double?
    public var sellPressureStd: Double?
    public var stakeProbability: Double?
    public var riskToleranceMean: Double?

    public init(
        cohort: String, sellPressureMean: Double? = nil, sellPressureStd: Double? = nil,
        stakeProbability: Double? = nil, riskToleranceMean: Double? = nil
    ) {
        self.cohort = cohort
        self.sellPressureMean = sellPressureMean
        self.sellPressureStd = sellPressureStd
        self.stakeProbability = stakeProbability
        self.riskToleranceMean = riskToleranceMean
    }
}

public enum VarianceLevel: String, Sendable, CaseIterable {
    case low, medium, high
}

public struct MonteCarloSettings: Sendable, Equatable {
    public var enabled = false
    public var numTrials = 100
    public var varianceLevel: VarianceLevel = .medium
    /// 0 is a seed like any other (D22).
    public var seed: UInt32?
    public var confidenceLevels: [Int] = [10, 50, 90]
    public init() {}
}
