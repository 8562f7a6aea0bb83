/// Unlock amounts per month for one allocation (spec 5.2, corrected contract).
///
/// Convention shared by both engines: the TGE unlocks at month 0 and linear tranche k (k = 0..v-1) at
/// month c + k; with v = 0 the whole remainder unlocks at month c (D4, D5). Amounts come from differences
/// of the cumulative curve, so the total unlocked is exactly the allocation once month c + v - 1 has passed.
public struct VestingSchedule: Sendable, Equatable {
    public var allocation: Double
    public var tgePct: Double
    public var cliff: Int
    public var vesting: Int

    public init(allocation: Double, tgePct: Double, cliff: Int, vesting: Int) {
        self.allocation = allocation
        self.tgePct = tgePct
        self.cliff = cliff
        self.vesting = vesting
    }

    public var tge: Double { allocation * tgePct / 100 }
    public var remainder: Double { allocation - tge }

    /// Cumulative amount unlocked by the end of month m (m < 0 gives 0).
    public func cumulative(through m: Int) -> Double {
        if m < 0 { return 0 }
        let tranches: Int
        if vesting == 0 {
            tranches = m >= cliff ? 1 : 0
            return tge + (tranches == 1 ? remainder : 0)
        }
        tranches = min(max(m - cliff + 1, 0), vesting)
        if tranches == vesting { return allocation }
        return tge + remainder * Double(tranches) / Double(vesting)
    }

    public func unlock(at m: Int) -> Double {
        cumulative(through: m) - cumulative(through: m - 1)
    }

    /// The month of the first post-cliff tranche, where the cliff shock applies (D3); nil without a cliff.
    public var cliffMonth: Int? { cliff > 0 ? cliff : nil }

    /// Unlocks for months 0..<horizon.
    public func unlocks(horizon: Int) -> [Double] {
        var out = [Double](repeating: 0, count: horizon)
        var prev = 0.0
        for m in 0..<horizon {
            let c = cumulative(through: m)
            out[m] = c - prev
            prev = c
        }
        return out
    }
}
