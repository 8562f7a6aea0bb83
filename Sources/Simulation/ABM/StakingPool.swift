/// The staking pool of spec 5.7 with D13 and D14 corrected: stake over capacity is refused (it stays with
/// the holders), and matured principal and rewards go back to the stakers. Rewards are minted for
/// `emission` or paid from the treasury's tokens for `treasury`.
public struct StakingPool: Sendable {
    public let settings: StakingSettings
    public let maxCapacity: Double
    public private(set) var totalStaked = 0.0
    private var locks: [(amount: Double, until: Int, apy: Double)] = []
    private var iteration = 0

    public init(settings: StakingSettings, totalSupply: Double) {
        self.settings = settings
        self.maxCapacity = totalSupply * settings.maxCapacityPct
    }

    public var utilization: Double { maxCapacity > 0 ? totalStaked / maxCapacity : 0 }

    /// APY interpolated between the empty and full multipliers.
    public var currentAPY: Double {
        let u = utilization
        return settings.baseAPY * (settings.apyMultiplierAtEmpty * (1 - u) + settings.apyMultiplierAtFull * u)
    }

    /// Accepts as much of `requested` as capacity allows, locked at the APY before the deposit.
    public mutating func accept(_ requested: Double) -> Double {
        let accepted = min(requested, max(0, maxCapacity - totalStaked))
        if accepted > 0 {
            locks.append((accepted, iteration + settings.lockupMonths, currentAPY))
            totalStaked += accepted
        }
        return max(0, accepted)
    }

    /// Releases every lock due by this month and advances the pool's month counter.
    /// Returns the principal released and the rewards earned on it.
    public mutating func mature() -> (principal: Double, rewards: Double) {
        var principal = 0.0
        var rewards = 0.0
        var kept: [(amount: Double, until: Int, apy: Double)] = []
        kept.reserveCapacity(locks.count)
        for lock in locks {
            if lock.until <= iteration {
                principal += lock.amount
                rewards += lock.amount * lock.apy / 12 * Double(settings.lockupMonths)
            } else {
                kept.append(lock)
            }
        }
        locks = kept
        totalStaked = max(0, totalStaked - principal)
        if locks.isEmpty { totalStaked = 0 }
        iteration += 1
        return (principal, rewards)
    }
}
