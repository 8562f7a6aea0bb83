/// The four price models of spec 5.5, with the corrections of D6, D17 and D39.
public struct PricingController: Sendable {
    public let settings: PricingSettings
    /// Anchor for the curve models and the constant model when the request does not set one.
    public let tokenInitialPrice: Double

    public init(settings: PricingSettings, tokenInitialPrice: Double) {
        self.settings = settings
        self.tokenInitialPrice = tokenInitialPrice
    }

    /// Inputs for one month's price.
    public struct Inputs: Sendable {
        public var previousPrice: Double
        /// Circulating supply now, after this month's unlocks and stakes.
        public var circulating: Double
        /// Circulating supply at the end of the previous month.
        public var previousCirculating: Double
        /// Daily token volume from an attached volume controller, if any.
        public var dailyVolume: Double?
    }

    /// The month's price. It is floored at the model's `min_price` and this value is both reported and used
    /// by the economy (D17: the original reported one value and used another).
    public func price(_ x: Inputs) -> Double {
        let s = settings
        switch s.model {
        case .eoe:
            let velocity = 12 / s.holdingTime
            let raw: Double
            if let v = x.dailyVolume {
                // Equation of exchange with an explicit volume model (the original's formula).
                let demand = v * x.previousPrice
                raw = x.circulating > 0 && velocity > 0 ? demand / (x.circulating * velocity) : x.previousPrice
            } else {
                // D39: constant monetary demand. Without a volume model, the value of the float stays constant,
                // so the price moves inversely with circulating supply instead of collapsing with sales.
                raw =
                    x.circulating > 0 && x.previousCirculating > 0
                    ? x.previousPrice * x.previousCirculating / x.circulating : x.previousPrice
            }
            return max(s.minPrice, s.smoothingFactor * x.previousPrice + (1 - s.smoothingFactor) * raw)
        case .bondingCurve:
            let p0 = s.initialPrice ?? tokenInitialPrice
            let k = p0 / pow(s.initialSupply, s.curveExponent)
            guard x.circulating > 0 else { return s.minPrice }
            return max(s.minPrice, k * pow(x.circulating, s.curveExponent))
        case .issuanceCurve:
            let p0 = s.initialPrice ?? tokenInitialPrice
            return max(s.minPrice, p0 * pow(1 + x.circulating / s.maxSupply, s.alpha))
        case .constant:
            return s.price ?? tokenInitialPrice
        }
    }

    /// The price the economy holds before month 0.
    public var startingPrice: Double {
        switch settings.model {
        case .constant: return settings.price ?? tokenInitialPrice
        default: return tokenInitialPrice
        }
    }
}

/// Daily trading volume in tokens (spec 5.6).
public struct VolumeController: Sendable {
    public let settings: VolumeSettings
    public let totalSupply: Double

    public init(settings: VolumeSettings, totalSupply: Double) {
        self.settings = settings
        self.totalSupply = totalSupply
    }

    public func dailyVolume(circulating: Double) -> Double {
        let v: Double
        switch settings.volumeModel {
        case .proportional:
            v = settings.baseDailyVolume * (totalSupply > 0 ? circulating / totalSupply : 0) * settings.volumeMultiplier
        case .constant:
            v = settings.baseDailyVolume * settings.volumeMultiplier
        }
        return max(0, v)
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
