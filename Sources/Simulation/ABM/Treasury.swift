/// The protocol treasury of spec 5.8 with D16 corrected: every part of the fee split is tracked and reported.
///
/// Fees are fiat. The liquidity share is deployed as a pair (that fiat plus tokens of equal value from the
/// treasury's own balance); the buyback share buys tokens off the market, which are burned or kept.
/// The treasury's tokens come out of the supply that no bucket allocates, so they never push circulating
/// supply past total supply.
public struct Treasury: Sendable {
    public let settings: TreasurySettings
    public private(set) var fiatBalance = 0.0
    public private(set) var tokenBalance: Double
    public private(set) var totalFeesCollected = 0.0
    public private(set) var heldFiat = 0.0
    public private(set) var liquidityDeployedFiat = 0.0
    public private(set) var liquidityDeployedTokens = 0.0
    public private(set) var totalTokensBought = 0.0
    public private(set) var totalTokensBurned = 0.0
    public private(set) var rewardsPaid = 0.0

    public struct Month: Sendable, Equatable {
        public var feesCollected = 0.0
        public var liquidityFiat = 0.0
        public var liquidityTokens = 0.0
        public var tokensBought = 0.0
        public var tokensBurned = 0.0
    }

    public init(settings: TreasurySettings, initialTokens: Double) {
        self.settings = settings
        self.tokenBalance = initialTokens
    }

    /// One month of fees on `sold` tokens at `price`. `marketFloat` bounds what the buyback can buy.
    public mutating func execute(sold: Double, price: Double, marketFloat: Double) -> Month {
        var m = Month()
        guard price > 0 else { return m }
        let fees = sold * price * settings.transactionFeePct
        m.feesCollected = fees
        totalFeesCollected += fees
        fiatBalance += fees
        heldFiat += fees * settings.holdPct

        let liquidity = fees * settings.liquidityPct
        if liquidity > 0 {
            let tokens = min(liquidity / price, tokenBalance)
            let fiat = tokens * price
            if tokens > 0 {
                tokenBalance -= tokens
                fiatBalance -= fiat
                liquidityDeployedFiat += fiat
                liquidityDeployedTokens += tokens
                m.liquidityFiat = fiat
                m.liquidityTokens = tokens
            }
        }

        let buy = fees * settings.buybackPct
        if buy > 0 {
            let bought = min(buy / price, max(0, marketFloat))
            if bought > 0 {
                fiatBalance -= bought * price
                totalTokensBought += bought
                m.tokensBought = bought
                if settings.burnBoughtTokens {
                    totalTokensBurned += bought
                    m.tokensBurned = bought
                } else {
                    tokenBalance += bought
                }
            }
        }
        return m
    }

    /// Pays staking rewards out of the treasury's tokens, as far as they go. Returns what was paid.
    public mutating func payRewards(_ amount: Double) -> Double {
        let paid = min(max(0, amount), tokenBalance)
        tokenBalance -= paid
        rewardsPaid += paid
        return paid
    }
}
