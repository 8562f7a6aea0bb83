/// The v1 `SimulationConfig` (spec 8.1), validated, with defaults filled in.
public struct V1Config: Sendable, Equatable {
    public enum AllocationMode: String, Sendable, CaseIterable { case percent, tokens }
    public enum Tier: String, Sendable, CaseIterable { case tier1, tier2, tier3 }
    public enum SellLevel: String, Sendable, CaseIterable {
        case low, medium, high
        public var pressure: Double {
            switch self {
            case .low: return 0.10
            case .medium: return 0.25
            case .high: return 0.50
            }
        }
    }
    public enum PriceSource: String, Sendable, CaseIterable { case flat, scenario, csv }
    public enum Scenario: String, Sendable, CaseIterable { case uptrend, downtrend, volatile }
    public enum V1PricingModel: String, Sendable, CaseIterable {
        case bondingCurve = "bonding_curve", linear, constant
    }

    public struct Token: Sendable, Equatable {
        public var name: String
        public var totalSupply: Double
        public var startDate: SimDate
        public var horizonMonths: Int
        public var allocationMode: AllocationMode = .percent
        public var simulationMode: Tier = .tier1
    }

    public struct Bucket: Sendable, Equatable {
        public var bucket: String
        public var allocation: Double
        public var tgeUnlockPct: Double
        public var cliffMonths: Int
        public var vestingMonths: Int
    }

    public struct CliffShock: Sendable, Equatable {
        public var enabled = false
        public var multiplier = 3.0
        public var buckets: [String] = []
    }

    public struct PriceTrigger: Sendable, Equatable {
        public var enabled = false
        public var source: PriceSource = .flat
        public var scenario: Scenario?
        public var takeProfit = 0.5
        public var stopLoss = -0.3
        public var extraSellAddon = 0.2
        public var uploadedPriceSeries: [(month: Int, price: Double)]?

        public static func == (a: PriceTrigger, b: PriceTrigger) -> Bool {
            a.enabled == b.enabled && a.source == b.source && a.scenario == b.scenario && a.takeProfit == b.takeProfit
                && a.stopLoss == b.stopLoss && a.extraSellAddon == b.extraSellAddon
                && a.uploadedPriceSeries?.map(\.month) == b.uploadedPriceSeries?.map(\.month)
                && a.uploadedPriceSeries?.map(\.price) == b.uploadedPriceSeries?.map(\.price)
        }
    }

    public struct Relock: Sendable, Equatable {
        public var enabled = false
        public var relockPct = 0.3
        public var lockDurationMonths = 6
    }

    public struct Staking: Sendable, Equatable {
        public var enabled = false
        public var apy = 0.12
        public var maxCapacityPct = 0.5
        public var lockupMonths = 6
        public var participationRate = 0.3
        public var rewardSource: String = "treasury"
    }

    public struct Pricing: Sendable, Equatable {
        public var enabled = false
        public var pricingModel: V1PricingModel = .bondingCurve
        public var initialPrice = 1.0
        public var targetPrice: Double?
        public var bondingCurveParam = 2.0
    }

    public struct TreasuryConfig: Sendable, Equatable {
        public var enabled = false
        public var initialBalancePct = 0.15
        public var holdPct = 0.5
        public var liquidityPct = 0.3
        public var buybackPct = 0.2
    }

    public struct Volume: Sendable, Equatable {
        public var enabled = false
        public var volumeModel: VolumeModel = .proportional
        public var baseDailyVolume = 10_000_000.0
        public var volumeMultiplier = 1.0
    }

    public struct CohortProfile: Sendable, Equatable {
        public var sellPressureMean: Double
        public var sellPressureStd: Double
        public var stakeProbability: Double
        public var holdProbability: Double
    }

    public struct CohortBehavior: Sendable, Equatable {
        public var enabled = false
        public var profiles: [NamedValue<CohortProfile>] = CohortBehavior.defaultProfiles
        public var bucketCohortMapping: [NamedValue<String>] = []

        public static let defaultProfiles: [NamedValue<CohortProfile>] = [
            NamedValue("high_stake", CohortProfile(sellPressureMean: 0.15, sellPressureStd: 0.05, stakeProbability: 0.7, holdProbability: 0.2)),
            NamedValue("high_sell", CohortProfile(sellPressureMean: 0.5, sellPressureStd: 0.1, stakeProbability: 0.1, holdProbability: 0.05)),
            NamedValue("balanced", CohortProfile(sellPressureMean: 0.3, sellPressureStd: 0.08, stakeProbability: 0.4, holdProbability: 0.1)),
        ]
    }

    public struct MonteCarlo: Sendable, Equatable {
        public var enabled = false
        public var numTrials = 100
        public var varianceLevel: VarianceLevel = .medium
        public var seed: Int?
    }

    public var token: Token
    public var sellPressureLevel: SellLevel = .medium
    public var avgDailyVolumeTokens: Double?
    public var cliffShock = CliffShock()
    public var priceTrigger = PriceTrigger()
    public var relock = Relock()
    public var buckets: [Bucket]
    public var staking = Staking()
    public var pricing = Pricing()
    public var treasury = TreasuryConfig()
    public var volume = Volume()
    public var cohortBehavior = CohortBehavior()
    public var monteCarlo = MonteCarlo()

    public init(token: Token, buckets: [Bucket]) {
        self.token = token
        self.buckets = buckets
    }

    /// Tokens allocated to a bucket (spec 8.2 normalisation).
    public func allocationTokens(_ b: Bucket) -> Double {
        token.allocationMode == .percent ? token.totalSupply * b.allocation / 100 : b.allocation
    }
}
