import Dispatch
import Synchronization

/// Monte Carlo over the ABM engine (spec 6), with D7 (variance_level), D22 and D23 corrected.
///
/// Trials are independent: trial i's seed comes from the base seed and i alone, and its result is written
/// to slot i. Running on one core or on all of them therefore gives byte-identical output.
public enum MonteCarloEngine {
    /// Trial seeds in [0, 2^31), a pure function of the base seed.
    public static func trialSeeds(base: UInt32, count: Int) -> [UInt32] {
        var g = SplitMix64(seed: UInt64(base) | 0x4D43_0000_0000_0000)
        return (0..<count).map { _ in UInt32(truncatingIfNeeded: g.next() >> 33) }
    }

    /// Spread of the per-trial sell-pressure multiplier (log-normal sigma) for each variance level.
    public static func sigma(_ level: VarianceLevel) -> Double {
        switch level {
        case .low: return 0.05
        case .medium: return 0.15
        case .high: return 0.30
        }
    }

    /// Per-cohort sell-pressure multipliers for one trial.
    static func sellScales(trialSeed: UInt32, cohorts: Int, level: VarianceLevel) -> [Double] {
        var rng = MersenneTwister(seed: SplitMix64.derive(trialSeed, index: 1_000_003))
        let s = sigma(level)
        return (0..<cohorts).map { _ in exp(s * rng.standardNormal()) }
    }

    /// Runs every trial. `seed` is the base seed (the request's, or a fresh one chosen by the caller).
    /// `maxConcurrency` 1 runs the trials one after another; anything else uses every core.
    public static func run(
        _ request: ABMRequest, settings: MonteCarloSettings, seed: UInt32, maxConcurrency: Int = 0,
        progress: ProgressHandler? = nil
    ) throws(SimulationError) -> MonteCarloResult {
        let n = settings.numTrials
        let seeds = trialSeeds(base: seed, count: n)
        let slots = TrialSlots(count: n)
        let completed = Atomic<Int>(0)
        let cancelled = Atomic<Bool>(false)

        let runTrial = { @Sendable (i: Int) in
            if cancelled.load(ordering: .relaxed) { return }
            var req = request
            req.abm.seed = seeds[i]
            let scales = sellScales(trialSeed: seeds[i], cohorts: req.buckets.count, level: settings.varianceLevel)
            let engine = ABMEngine(request: req, seed: seeds[i], sellScales: scales)
            let result = try? engine.run(parallel: false) { _, _ in !cancelled.load(ordering: .relaxed) }
            guard let result else { return }
            let sold = result.globalMetrics.reduce(0) { $0 + $1.totalSold }
            slots.set(
                i,
                .init(
                    trialIndex: i, globalMetrics: result.globalMetrics, finalPrice: result.summary.finalPrice,
                    totalSold: sold, seed: seeds[i]))
            let done = completed.add(1, ordering: .relaxed).newValue
            if let progress, !progress(done, n) { cancelled.store(true, ordering: .relaxed) }
        }
        if maxConcurrency == 1 {
            for i in 0..<n { runTrial(i) }
        } else {
            ParallelLoop.run(n, runTrial)
        }
        if cancelled.load(ordering: .relaxed) { throw .cancelled }
        let trials = slots.values()
        return summarize(trials: trials, levels: settings.confidenceLevels, seed: seed, level: settings.varianceLevel)
    }

    static func summarize(trials: [MonteCarloResult.Trial], levels: [Int], seed: UInt32, level: VarianceLevel)
        -> MonteCarloResult
    {
        let months = trials[0].globalMetrics.count
        let template = trials[0].globalMetrics
        // Column-wise values per month and metric, sorted once and shared by every band.
        var columns: [[[Double]]] = Array(repeating: Array(repeating: [], count: 6), count: months)
        for m in 0..<months {
            for k in 0..<6 {
                columns[m][k] = trials.map { metricValue($0.globalMetrics[m], k) }.sorted()
            }
        }
        func path(_ f: ([Double]) -> Double) -> [ABMGlobalMonth] {
            (0..<months).map { m in
                var g = template[m]
                g.price = f(columns[m][0])
                g.circulatingSupply = f(columns[m][1])
                g.totalUnlocked = f(columns[m][2])
                g.totalSold = f(columns[m][3])
                g.totalStaked = f(columns[m][4])
                g.totalHeld = f(columns[m][5])
                return g
            }
        }
        let finals = trials.map(\.finalPrice)
        let sortedFinals = finals.sorted()
        let solds = trials.map(\.totalSold)
        let sortedSolds = solds.sorted()
        let bands = levels.map { p in
            MonteCarloResult.Band(
                percentile: p, globalMetrics: path { Statistics.percentile(sorted: $0, Double(p)) },
                finalPrice: Statistics.percentile(sorted: sortedFinals, Double(p)),
                totalSold: Statistics.percentile(sorted: sortedSolds, Double(p)))
        }
        var s = MonteCarloResult.Summary()
        s.numTrials = trials.count
        s.meanFinalPrice = Statistics.mean(finals)
        s.stdFinalPrice = Statistics.std(finals)
        s.minFinalPrice = sortedFinals.first ?? 0
        s.maxFinalPrice = sortedFinals.last ?? 0
        s.p10FinalPrice = Statistics.percentile(sorted: sortedFinals, 10)
        s.p50FinalPrice = Statistics.percentile(sorted: sortedFinals, 50)
        s.p90FinalPrice = Statistics.percentile(sorted: sortedFinals, 90)
        s.meanTotalSold = Statistics.mean(solds)
        s.stdTotalSold = Statistics.std(solds)
        s.coefficientOfVariation = s.meanFinalPrice > 0 ? s.stdFinalPrice / s.meanFinalPrice : 0
        return MonteCarloResult(
            trials: trials, percentiles: bands, meanMetrics: path(Statistics.mean), summary: s,
            executionTimeSeconds: 0, seed: seed, varianceLevel: level)
    }

    @inline(__always)
    static func metricValue(_ g: ABMGlobalMonth, _ k: Int) -> Double {
        switch k {
        case 0: return g.price
        case 1: return g.circulatingSupply
        case 2: return g.totalUnlocked
        case 3: return g.totalSold
        case 4: return g.totalStaked
        default: return g.totalHeld
        }
    }
}

/// Result slots written by concurrent trials; each index is written once, by one trial.
final class TrialSlots: Sendable {
    private let storage: Mutex<[MonteCarloResult.Trial?]>
    init(count: Int) { storage = Mutex(Array(repeating: nil, count: count)) }
    func set(_ i: Int, _ t: MonteCarloResult.Trial) { storage.withLock { $0[i] = t } }
    func values() -> [MonteCarloResult.Trial] { storage.withLock { $0.compactMap { $0 } } }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif
