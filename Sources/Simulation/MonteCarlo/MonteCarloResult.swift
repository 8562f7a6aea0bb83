/// Monte Carlo results (spec 3.18 and 6), with the seed echoed and `total_sold` cumulative (D23).
public struct MonteCarloResult: Sendable, Equatable {
    public struct Trial: Sendable, Equatable {
        public var trialIndex: Int
        public var globalMetrics: [ABMGlobalMonth]
        public var finalPrice: Double
        /// Tokens sold over the whole horizon (D23: the original reported the last month only).
        public var totalSold: Double
        public var seed: UInt32
    }

    public struct Band: Sendable, Equatable {
        public var percentile: Int
        public var globalMetrics: [ABMGlobalMonth]
        public var finalPrice: Double
        public var totalSold: Double
    }

    public struct Summary: Sendable, Equatable {
        public var numTrials = 0
        public var meanFinalPrice = 0.0
        public var stdFinalPrice = 0.0
        public var minFinalPrice = 0.0
        public var maxFinalPrice = 0.0
        public var p10FinalPrice = 0.0
        public var p50FinalPrice = 0.0
        public var p90FinalPrice = 0.0
        public var meanTotalSold = 0.0
        public var stdTotalSold = 0.0
        public var coefficientOfVariation = 0.0
    }

    public var trials: [Trial]
    public var percentiles: [Band]
    public var meanMetrics: [ABMGlobalMonth]
    public var summary: Summary
    public var executionTimeSeconds: Double
    public var seed: UInt32
    public var varianceLevel: VarianceLevel

    public func json() -> JSONValue { jsonStream().value }

    static func months(_ g: [ABMGlobalMonth]) -> JSONValue { .array(g.map { $0.json() }) }

    static func trialJSON(_ t: Trial) -> JSONValue {
        .object(
            JSONObject([
                ("trial_index", .integer(t.trialIndex)), ("global_metrics", months(t.globalMetrics)),
                ("final_price", .num(t.finalPrice)), ("total_sold", .num(t.totalSold)),
                ("seed", .int(Int64(t.seed))),
            ]))
    }

    /// Whether every number is finite, checked trial by trial before the result is written.
    public var isFinite: Bool { trials.allSatisfy { Self.trialJSON($0).isFinite } && JSONValue.object(rest).isFinite }

    /// The document, its trials encoded one at a time as they are written.
    public func jsonStream() -> JSONStream {
        var entries: [(key: String, value: JSONStream)] = [("trials", .elements(trials) { Self.trialJSON($0) })]
        for entry in rest.entries { entries.append((entry.key, .value(entry.value))) }
        return .object(entries)
    }

    /// Everything but the trials: bands, mean, summary, settings.
    private var rest: JSONObject {
        let months = Self.months
        var o = JSONObject()
        o["percentiles"] = .array(
            percentiles.map { b in
                .object(
                    JSONObject([
                        ("percentile", .integer(b.percentile)), ("global_metrics", months(b.globalMetrics)),
                        ("final_price", .num(b.finalPrice)), ("total_sold", .num(b.totalSold)),
                    ]))
            })
        o["mean_metrics"] = months(meanMetrics)
        let s = summary
        o["summary"] = .object(
            JSONObject([
                ("num_trials", .integer(s.numTrials)), ("mean_final_price", .num(s.meanFinalPrice)),
                ("std_final_price", .num(s.stdFinalPrice)), ("min_final_price", .num(s.minFinalPrice)),
                ("max_final_price", .num(s.maxFinalPrice)), ("p10_final_price", .num(s.p10FinalPrice)),
                ("p50_final_price", .num(s.p50FinalPrice)), ("p90_final_price", .num(s.p90FinalPrice)),
                ("mean_total_sold", .num(s.meanTotalSold)), ("std_total_sold", .num(s.stdTotalSold)),
                ("coefficient_of_variation", .num(s.coefficientOfVariation)),
            ]))
        o["execution_time_seconds"] = .num(executionTimeSeconds)
        o["seed"] = .int(Int64(seed))
        o["variance_level"] = .string(varianceLevel.rawValue)
        return o
    }
}
