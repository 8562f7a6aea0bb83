/// How many agents each bucket gets and how many holders they stand for (spec 5.1.2, 5.1.3, with D8/D9).
public struct PopulationPlan: Sendable, Equatable {
    public enum Strategy: String, Sendable {
        case fullIndividual = "full_individual"
        case representativeSampling = "representative_sampling"
        case metaAgents = "meta_agents"
    }

    public struct Cohort: Sendable, Equatable {
        public var name: String
        /// Tokens allocated to the bucket.
        public var tokens: Double
        /// Estimated (or given) number of holders.
        public var holders: Int
        public var agents: Int
        /// Holders each agent stands for.
        public var weight: Double { Double(holders) / Double(agents) }
    }

    public var strategy: Strategy
    public var cohorts: [Cohort]
    public var totalAgents: Int { cohorts.reduce(0) { $0 + $1.agents } }

    /// Holder density per bucket name (spec 5.1.2).
    public static func density(_ name: String) -> Double {
        switch name {
        case "Team", "VC": return 0.0001
        case "Advisors": return 0.0002
        case "Investors": return 0.001
        case "Community": return 0.01
        case "Public": return 0.02
        default: return 0.001
        }
    }

    /// Holder estimate, saturating instead of overflowing for absurd supplies.
    public static func estimateHolders(tokens: Double, name: String) -> Int {
        let x = (tokens * density(name)).rounded(.towardZero)
        if !(x < 1e12) { return 1_000_000_000_000 }
        return max(1, Int(x))
    }

    public init(_ request: ABMRequest) {
        let supply = request.token.totalSupply
        var cohorts = request.buckets.map { b -> Cohort in
            let tokens = b.allocation / 100 * supply
            let holders = b.numHolders ?? PopulationPlan.estimateHolders(tokens: tokens, name: b.bucket)
            return Cohort(name: b.bucket, tokens: tokens, holders: holders, agents: 0)
        }
        let n = request.abm.agentsPerCohort
        let strategy: Strategy
        switch request.abm.agentGranularity {
        case .fullIndividual: strategy = .fullIndividual
        case .metaAgents: strategy = .metaAgents
        case .adaptive:
            if request.abm.agentsPerCohortExplicit {
                strategy = .metaAgents
            } else {
                strategy = PopulationPlan.autoStrategy(totalHolders: cohorts.reduce(0) { $0 + $1.holders })
            }
        }
        let totalHolders = Double(cohorts.reduce(0) { $0 + $1.holders })
        for i in cohorts.indices {
            switch strategy {
            case .fullIndividual: cohorts[i].agents = cohorts[i].holders
            case .metaAgents: cohorts[i].agents = n
            case .representativeSampling:
                let share = Int((1000 * Double(cohorts[i].holders) / totalHolders).rounded(.towardZero))
                cohorts[i].agents = min(cohorts[i].holders, max(10, share))
            }
        }
        self.strategy = strategy
        self.cohorts = cohorts
    }

    /// Thresholds of the original's adaptive mode: up to 1000 holders one agent each, up to 10,000 sampled,
    /// beyond that meta agents.
    public static func autoStrategy(totalHolders: Int) -> Strategy {
        if totalHolders <= 1000 { return .fullIndividual }
        if totalHolders <= 10000 { return .representativeSampling }
        return .metaAgents
    }
}
