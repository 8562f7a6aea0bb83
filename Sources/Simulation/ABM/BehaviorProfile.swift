/// The distributions an agent's attributes are drawn from (spec 5.1.4).
public struct BehaviorProfile: Sendable, Equatable {
    public var riskA: Double, riskB: Double
    public var holdShape: Double, holdScale: Double
    public var sellMean: Double, sellStd: Double
    public var priceSensA: Double, priceSensB: Double
    public var stakeA: Double, stakeB: Double
    public var cliffShockMult: Double
    public var takeProfit = 0.5
    public var stopLoss = -0.3

    init(
        risk: (Double, Double), hold: (Double, Double), sell: (Double, Double), priceSens: (Double, Double),
        stake: (Double, Double), cliffShock: Double
    ) {
        (riskA, riskB) = risk
        (holdShape, holdScale) = hold
        (sellMean, sellStd) = sell
        (priceSensA, priceSensB) = priceSens
        (stakeA, stakeB) = stake
        cliffShockMult = cliffShock
    }

    public static let team = BehaviorProfile(
        risk: (2, 8), hold: (2, 12), sell: (0.10, 0.03), priceSens: (2, 8), stake: (6, 4), cliffShock: 1.5)
    public static let vc = BehaviorProfile(
        risk: (5, 5), hold: (1.5, 6), sell: (0.40, 0.10), priceSens: (6, 4), stake: (3, 7), cliffShock: 3.0)
    public static let community = BehaviorProfile(
        risk: (5, 3), hold: (2, 4), sell: (0.25, 0.08), priceSens: (5, 5), stake: (4, 6), cliffShock: 2.0)
    public static let investors = BehaviorProfile(
        risk: (6, 4), hold: (2, 8), sell: (0.30, 0.08), priceSens: (7, 3), stake: (5, 5), cliffShock: 2.5)
    public static let advisors = BehaviorProfile(
        risk: (3, 7), hold: (2, 10), sell: (0.20, 0.05), priceSens: (4, 6), stake: (4, 6), cliffShock: 1.8)

    public static let conservative = BehaviorProfile(
        risk: (2, 8), hold: (2, 12), sell: (0.10, 0.03), priceSens: (2, 8), stake: (6, 4), cliffShock: 1.5)
    public static let moderate = BehaviorProfile(
        risk: (5, 5), hold: (2, 6), sell: (0.25, 0.08), priceSens: (5, 5), stake: (4, 6), cliffShock: 2.0)
    public static let aggressive = BehaviorProfile(
        risk: (5, 3), hold: (1.5, 4), sell: (0.40, 0.10), priceSens: (6, 4), stake: (3, 7), cliffShock: 3.0)

    /// Default profile per bucket name (exact, case-sensitive).
    public static func forBucketName(_ name: String) -> BehaviorProfile? {
        switch name {
        case "Team": return .team
        case "VC": return .vc
        case "Community": return .community
        case "Investors": return .investors
        case "Advisors": return .advisors
        default: return nil
        }
    }

    public static func preset(_ p: CohortPreset) -> BehaviorProfile {
        switch p {
        case .conservative: return .conservative
        case .moderate: return .moderate
        case .aggressive: return .aggressive
        }
    }

    /// Resolution order of spec 5.1.4: a valid mapped preset, else the bucket's default, else Community.
    /// An unknown preset name is reported back as a warning instead of only being logged.
    public static func resolve(bucket: String, mapping: [NamedValue<String>]?) -> (BehaviorProfile, String?) {
        var warning: String?
        if let mapped = mapping?.last(where: { $0.name == bucket })?.value {
            if let preset = CohortPreset(rawValue: mapped) { return (.preset(preset), nil) }
            warning =
                "Unknown cohort preset '\(mapped)' for bucket '\(bucket)' in bucket_cohort_mapping; using the bucket's default profile. Presets: conservative, moderate, aggressive."
        }
        return (forBucketName(bucket) ?? .community, warning)
    }

    /// Applies a `cohort_profiles` override. A Beta mean override keeps the profile's concentration (a + b).
    public func applying(_ o: CohortProfileOverride) -> BehaviorProfile {
        var p = self
        if let m = o.sellPressureMean { p.sellMean = m }
        if let s = o.sellPressureStd { p.sellStd = s }
        if let m = o.stakeProbability {
            let k = stakeA + stakeB
            (p.stakeA, p.stakeB) = (m * k, (1 - m) * k)
        }
        if let m = o.riskToleranceMean {
            let k = riskA + riskB
            (p.riskA, p.riskB) = (m * k, (1 - m) * k)
        }
        return p
    }

    public var meanSellPressure: Double { sellMean }
    public var meanStakePropensity: Double { stakeA / (stakeA + stakeB) }
}
