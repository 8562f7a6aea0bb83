import Simulation

/// The short human-readable summaries printed by `abm simulate --summary`.
enum SummaryText {
    static func fmt(_ d: Double) -> String {
        if abs(d) >= 1000 { return PythonFormat.grouped(d) }
        return PythonFormat.fixed(d, 4)
    }

    static func abm(_ r: ABMResult) -> String {
        let s = r.summary
        var lines = [
            "ABM simulation: \(r.globalMetrics.count) months, \(r.numAgents) agents in \(r.numCohorts) cohorts, seed \(r.seed)",
            "  final price              \(fmt(s.finalPrice))",
            "  average sale price       \(fmt(s.averagePrice))",
            "  final circulating supply \(fmt(s.finalCirculatingSupply))",
            "  tokens sold              \(fmt(s.totalTokensSold))",
            "  peak selling             \(fmt(s.maxSellTokens)) in month \(s.maxSellMonth)",
            "  engine time              \(PythonFormat.fixed(r.executionTimeSeconds * 1000, 2)) ms",
        ]
        lines += r.warnings.map { "  warning: \($0)" }
        return lines.joined(separator: "\n")
    }

    static func monteCarlo(_ r: MonteCarloResult) -> String {
        let s = r.summary
        return [
            "Monte Carlo: \(s.numTrials) trials, base seed \(r.seed), variance \(r.varianceLevel.rawValue)",
            "  final price mean \(fmt(s.meanFinalPrice)) (std \(fmt(s.stdFinalPrice)))",
            "  final price P10/P50/P90 \(fmt(s.p10FinalPrice)) / \(fmt(s.p50FinalPrice)) / \(fmt(s.p90FinalPrice))",
            "  tokens sold mean \(fmt(s.meanTotalSold)) (std \(fmt(s.stdTotalSold)))",
            "  time \(PythonFormat.fixed(r.executionTimeSeconds, 3)) s",
        ].joined(separator: "\n")
    }

    static func v1(_ r: V1Result) -> String {
        let c = r.summaryCards
        var lines = [
            "Vesting simulation: \(r.globalMetrics.count) rows, \(Set(r.bucketResults.map(\.bucket)).count) buckets",
            "  largest unlock   \(fmt(c.maxUnlockTokens)) in month \(c.maxUnlockMonth)",
            "  largest sell     \(fmt(c.maxSellTokens)) in month \(c.maxSellMonth)",
            "  circulating at end \(PythonFormat.fixed(c.circEndPct, 2))% of supply",
        ]
        if let p = c.circ12Pct { lines.append("  circulating at month 12 \(PythonFormat.fixed(p, 2))%") }
        if let p = c.circ24Pct { lines.append("  circulating at month 24 \(PythonFormat.fixed(p, 2))%") }
        lines += r.warnings.map { "  warning: \($0)" }
        return lines.joined(separator: "\n")
    }
}
