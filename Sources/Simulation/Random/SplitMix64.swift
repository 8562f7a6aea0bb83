/// A small, fast generator used to derive independent seeds (per cohort, per Monte Carlo trial) from one
/// request seed. Derivation depends only on the seed and the index, never on thread scheduling.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The `index`-th derived 32-bit seed of `seed`. Index 0 is the seed itself, so a one-cohort run draws
    /// exactly the attributes the original drew for that seed.
    public static func derive(_ seed: UInt32, index: Int) -> UInt32 {
        if index == 0 { return seed }
        var g = SplitMix64(seed: UInt64(seed) << 32 | UInt64(truncatingIfNeeded: index))
        return UInt32(truncatingIfNeeded: g.next() >> 32)
    }

    /// A fresh seed for an unseeded request. The generator is the system's; the caller echoes the result.
    public static func freshSeed() -> UInt32 {
        var g = SystemRandomNumberGenerator()
        return UInt32.random(in: 0...UInt32.max, using: &g)
    }
}
