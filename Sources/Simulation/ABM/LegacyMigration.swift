/// Legacy `simulation_mode` handling for v2 requests (spec 9). The observable effect of the original is kept
/// (mode becomes `abm`, the same warnings and recommendations) and the messages always reach the response,
/// on the async path too (D18, D38).
public enum LegacyMigration {
    public static let legacyModes: Set<String> = ["tier1", "tier2", "tier3"]

    /// Migrates in place and returns the warnings followed by the recommendations.
    public static func migrate(_ request: inout ABMRequest) -> [String] {
        let mode = request.token.simulationMode
        guard legacyModes.contains(mode) else { return [] }
        request.token.simulationMode = "abm"
        var messages = ["Legacy simulation mode '\(mode)' detected. Migrating to ABM (Agent-Based Model) format."]
        if mode == "tier1" {
            messages.append(
                "Tier 1 (basic vesting) migrated to ABM with default agent behaviors. Consider customizing agent parameters for more realistic market dynamics."
            )
        }
        let abm = request.abm
        if !abm.enableStaking && !abm.enableTreasury {
            messages.append("Consider enabling staking or treasury for more realistic token economics.")
        }
        if abm.pricing.model == .eoe && !abm.enableVolume {
            messages.append("EOE pricing model benefits from dynamic volume. Consider enabling volume controller.")
        }
        if abm.agentGranularity == .fullIndividual {
            messages.append(
                "Full individual agent mode may be slow for large holder counts. Consider using 'adaptive' granularity for better performance."
            )
        }
        return messages
    }
}

/// The one entry point for a v2 simulation: migration, seed, engine.
public enum ABMSimulation {
    /// Runs `request`. An unseeded request gets a fresh seed, which the result echoes.
    public static func run(
        _ request: ABMRequest, parallel: Bool = true, progress: ProgressHandler? = nil
    ) throws(SimulationError) -> ABMResult {
        var req = request
        let messages = LegacyMigration.migrate(&req)
        let seed = req.abm.seed ?? SplitMix64.freshSeed()
        req.abm.seed = seed
        var result = try ABMEngine(request: req, seed: seed).run(parallel: parallel, progress: progress)
        result.warnings += messages
        return result
    }
}
