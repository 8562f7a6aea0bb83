/// MT19937 seeded and consumed exactly as numpy's legacy `RandomState(seed)` (spec 10), so that agent
/// attributes for a given seed match the original's draws.
public struct MersenneTwister: Sendable {
    private var state = [UInt32](repeating: 0, count: 624)
    private var index = 624
    /// The polar Box-Muller method yields normals in pairs; the second is cached and shared with gamma.
    private var cachedGaussian: Double?

    public init(seed: UInt32) {
        state[0] = seed
        for i in 1..<624 {
            let prev = state[i - 1]
            state[i] = 1_812_433_253 &* (prev ^ (prev >> 30)) &+ UInt32(i)
        }
    }

    private mutating func twist() {
        for i in 0..<624 {
            let y = (state[i] & 0x8000_0000) | (state[(i + 1) % 624] & 0x7FFF_FFFF)
            var v = state[(i + 397) % 624] ^ (y >> 1)
            if y & 1 != 0 { v ^= 0x9908_B0DF }
            state[i] = v
        }
        index = 0
    }

    @inline(__always)
    public mutating func nextUInt32() -> UInt32 {
        if index >= 624 { twist() }
        var y = state[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C_5680
        y ^= (y << 15) & 0xEFC6_0000
        y ^= y >> 18
        return y
    }

    /// A double in [0, 1) with 53 random bits.
    @inline(__always)
    public mutating func nextDouble() -> Double {
        let a = Double(nextUInt32() >> 5)
        let b = Double(nextUInt32() >> 6)
        return (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
    }

    public mutating func standardNormal() -> Double {
        if let g = cachedGaussian {
            cachedGaussian = nil
            return g
        }
        var x1 = 0.0
        var x2 = 0.0
        var r2 = 0.0
        repeat {
            x1 = 2 * nextDouble() - 1
            x2 = 2 * nextDouble() - 1
            r2 = x1 * x1 + x2 * x2
        } while r2 >= 1 || r2 == 0
        let f = (-2 * log(r2) / r2).squareRoot()
        cachedGaussian = f * x1
        return f * x2
    }

    public mutating func normal(mean: Double, std: Double) -> Double {
        mean + std * standardNormal()
    }

    /// Marsaglia-Tsang for shape > 1, as numpy's legacy sampler; shape 1 is an exponential and shapes
    /// below 1 use numpy's rejection method.
    public mutating func standardGamma(shape k: Double) -> Double {
        if k == 1 { return -log(1 - nextDouble()) }
        if k < 1 {
            while true {
                let u = nextDouble()
                let v = -log(1 - nextDouble())
                if u <= 1 - k {
                    let x = pow(u, 1 / k)
                    if x <= v { return x }
                } else {
                    let y = -log((1 - u) / k)
                    let x = pow(1 - k + k * y, 1 / k)
                    if x <= v + y { return x }
                }
            }
        }
        let b = k - 1.0 / 3.0
        let c = 1.0 / (9 * b).squareRoot()
        while true {
            var x = 0.0
            var v = 0.0
            repeat {
                x = standardNormal()
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = nextDouble()
            if u < 1 - 0.0331 * (x * x) * (x * x) { return b * v }
            if log(u) < 0.5 * x * x + b * (1 - v + log(v)) { return b * v }
        }
    }

    public mutating func gamma(shape: Double, scale: Double) -> Double {
        scale * standardGamma(shape: shape)
    }

    /// Beta via two gammas (numpy's method when max(a, b) > 1, which holds for every profile).
    public mutating func beta(_ a: Double, _ b: Double) -> Double {
        let ga = standardGamma(shape: a)
        let gb = standardGamma(shape: b)
        return ga / (ga + gb)
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
