/// The `data` of a v1 response (spec 3.6, 8.3 to 8.6).
public struct V1Result: Sendable, Equatable {
    public struct BucketRow: Sendable, Equatable {
        public var monthIndex: Int
        public var date: SimDate
        public var bucket: String
        public var allocationTokens: Double
        public var unlockedThisMonth: Double
        public var unlockedCumulative: Double
        public var lockedRemaining: Double
        public var sellPressureEffective: Double
        public var expectedSellThisMonth: Double
        public var expectedCirculatingCumulative: Double

        func json() -> JSONValue {
            .object(
                JSONObject([
                    ("month_index", .integer(monthIndex)), ("date", .string(date.description)), ("bucket", .string(bucket)),
                    ("allocation_tokens", .num(allocationTokens)), ("unlocked_this_month", .num(unlockedThisMonth)),
                    ("unlocked_cumulative", .num(unlockedCumulative)), ("locked_remaining", .num(lockedRemaining)),
                    ("sell_pressure_effective", .num(sellPressureEffective)),
                    ("expected_sell_this_month", .num(expectedSellThisMonth)),
                    ("expected_circulating_cumulative", .num(expectedCirculatingCumulative)),
                ]))
        }
    }

    /// p10, p90, median and sample std of one metric across Monte Carlo trials.
    public struct Band: Sendable, Equatable {
        public var p10: Double, p90: Double, median: Double, std: Double
    }

    public struct GlobalRow: Sendable, Equatable {
        public var monthIndex: Int
        public var date: SimDate
        public var totalUnlocked: Double
        public var totalExpectedSell: Double
        public var expectedCirculatingTotal: Double
        /// A fraction of total supply in every tier (D29).
        public var expectedCirculatingPct: Double
        public var sellVolumeRatio: Double?
        public var currentPrice: Double?
        public var stakedAmount: Double?
        public var liquidityDeployed: Double?
        public var treasuryBalance: Double?
        public var totalUnlockedBand: Band?
        public var totalExpectedSellBand: Band?
        public var expectedCirculatingTotalBand: Band?
        public var currentPriceBand: Band?

        func json() -> JSONValue {
            var o = JSONObject([
                ("month_index", .integer(monthIndex)), ("date", .string(date.description)),
                ("total_unlocked", .num(totalUnlocked)), ("total_expected_sell", .num(totalExpectedSell)),
                ("expected_circulating_total", .num(expectedCirculatingTotal)),
                ("expected_circulating_pct", .num(expectedCirculatingPct)), ("sell_volume_ratio", .num(sellVolumeRatio)),
                ("current_price", .num(currentPrice)), ("staked_amount", .num(stakedAmount)),
                ("liquidity_deployed", .num(liquidityDeployed)), ("treasury_balance", .num(treasuryBalance)),
            ])
            for (name, band) in [
                ("total_unlocked", totalUnlockedBand), ("total_expected_sell", totalExpectedSellBand),
                ("expected_circulating_total", expectedCirculatingTotalBand), ("current_price", currentPriceBand),
            ] {
                o["\(name)_p10"] = .num(band?.p10)
                o["\(name)_p90"] = .num(band?.p90)
                o["\(name)_median"] = .num(band?.median)
                o["\(name)_std"] = .num(band?.std)
            }
            return .object(o)
        }
    }

    public struct SummaryCards: Sendable, Equatable {
        public var maxUnlockTokens = 0.0
        public var maxUnlockMonth = 0
        public var maxSellTokens = 0.0
        public var maxSellMonth = 0
        /// Percent of supply (fraction x 100) at months 12, 24 and the end.
        public var circ12Pct: Double?
        public var circ24Pct: Double?
        public var circEndPct = 0.0

        init(_ rows: [GlobalRow]) {
            guard let first = rows.first, let last = rows.last else { return }
            var unlock = first
            var sell = first
            for r in rows {
                if r.totalUnlocked > unlock.totalUnlocked { unlock = r }
                if r.totalExpectedSell > sell.totalExpectedSell { sell = r }
            }
            maxUnlockTokens = unlock.totalUnlocked
            maxUnlockMonth = unlock.monthIndex
            maxSellTokens = sell.totalExpectedSell
            maxSellMonth = sell.monthIndex
            circ12Pct = rows.count > 12 ? rows[12].expectedCirculatingPct * 100 : nil
            circ24Pct = rows.count > 24 ? rows[24].expectedCirculatingPct * 100 : nil
            circEndPct = last.expectedCirculatingPct * 100
        }

        func json() -> JSONValue {
            .object(
                JSONObject([
                    ("max_unlock_tokens", .num(maxUnlockTokens)), ("max_unlock_month", .integer(maxUnlockMonth)),
                    ("max_sell_tokens", .num(maxSellTokens)), ("max_sell_month", .integer(maxSellMonth)),
                    ("circ_12_pct", .num(circ12Pct)), ("circ_24_pct", .num(circ24Pct)), ("circ_end_pct", .num(circEndPct)),
                ]))
        }
    }

    public var bucketResults: [BucketRow]
    public var globalMetrics: [GlobalRow]
    public var summaryCards: SummaryCards
    public var warnings: [String]

    public var dataJSON: JSONValue { dataStream.value }

    var dataStream: JSONStream {
        .object([
            ("bucket_results", .elements(bucketResults) { $0.json() }),
            ("global_metrics", .elements(globalMetrics) { $0.json() }),
            ("summary_cards", .value(summaryCards.json())),
        ])
    }

    /// The whole 200 body; `executionTimeMs` is measured by the caller.
    public func responseJSON(executionTimeMs: Double) -> JSONValue { responseStream(executionTimeMs: executionTimeMs).value }

    /// The 200 body, its rows encoded one by one as they are written.
    public func responseStream(executionTimeMs: Double) -> JSONStream {
        .object([
            ("status", .value("success")), ("execution_time_ms", .value(.num((executionTimeMs * 100).rounded() / 100))),
            ("warnings", .value(.strings(warnings))), ("data", dataStream),
        ])
    }

    /// Whether every number is finite, checked before a byte of a streamed 200 is sent.
    public var isFinite: Bool {
        bucketResults.allSatisfy { $0.json().isFinite } && globalMetrics.allSatisfy { $0.json().isFinite }
            && summaryCards.json().isFinite
    }
}
