/// Agent state in columns (one buffer per attribute), sized once; the monthly loop touches each column
/// sequentially, which is what makes a million agents cheap.
///
/// Balances are per simulated agent: an agent of bucket b holds `tokens_b / agents_b`, so the plain sum over
/// a bucket's agents is the bucket's total (D1: no second scaling by holder weight).
final class AgentTable: @unchecked Sendable {
    let count: Int
    /// sell_pressure_base x risk factor: the part of the sell rule fixed at creation.
    let sellCoefficient: UnsafeMutableBufferPointer<Double>
    let priceSensitivity: UnsafeMutableBufferPointer<Double>
    let stakingPropensity: UnsafeMutableBufferPointer<Double>
    let liquid: UnsafeMutableBufferPointer<Double>
    let staked: UnsafeMutableBufferPointer<Double>
    /// Stake offered at the end of last month, before the pool's acceptance ratio is known.
    let stakeIntent: UnsafeMutableBufferPointer<Double>
    let sold: UnsafeMutableBufferPointer<Double>
    /// Kept for snapshots only.
    let riskTolerance: UnsafeMutableBufferPointer<Double>

    init(count: Int) {
        self.count = count
        func column() -> UnsafeMutableBufferPointer<Double> {
            let b = UnsafeMutableBufferPointer<Double>.allocate(capacity: max(count, 1))
            b.initialize(repeating: 0)
            return b
        }
        sellCoefficient = column()
        priceSensitivity = column()
        stakingPropensity = column()
        liquid = column()
        staked = column()
        stakeIntent = column()
        sold = column()
        riskTolerance = column()
    }

    deinit {
        for c in [sellCoefficient, priceSensitivity, stakingPropensity, liquid, staked, stakeIntent, sold, riskTolerance] {
            c.deallocate()
        }
    }

    /// Draws the agents of one cohort, in the order of spec 5.1.5 (the hold-time draw is kept so the
    /// stream matches the original's for the same seed, although no rule reads it).
    func populate(range: Range<Int>, profile p: BehaviorProfile, seed: UInt32) {
        var rng = MersenneTwister(seed: seed)
        for i in range {
            let risk = rng.beta(p.riskA, p.riskB)
            _ = rng.gamma(shape: p.holdShape, scale: p.holdScale)
            let sell = min(1, max(0, rng.normal(mean: p.sellMean, std: p.sellStd)))
            let ps = rng.beta(p.priceSensA, p.priceSensB)
            let stake = rng.beta(p.stakeA, p.stakeB)
            let riskFactor = min(1.5, max(0.5, 1 + (risk - 0.5) * 0.5))
            sellCoefficient[i] = sell * riskFactor
            priceSensitivity[i] = ps
            stakingPropensity[i] = stake
            riskTolerance[i] = risk
        }
    }
}
