import Foundation
import Simulation
import Testing

/// Results are written in chunks from a lazy description whose bytes equal the whole-tree encoding, and
/// their size is predicted from the request before anything runs.
@Suite struct ResultStreamTests {
    static func body(buckets: Int, horizon: Int, level: String = "cohort", agents: Int = 5, extra: String = "") -> String {
        let list = (0..<buckets).map { #"{"bucket": "B\#($0) \"q\"", "allocation": \#(100.0 / Double(buckets)), "tge_unlock_pct": 10, "cliff_months": 1, "vesting_months": 6}"# }
        return #"{"token": {"name": "T", "total_supply": 1000000, "start_date": "2026-01-01", "horizon_months": \#(horizon)}, "buckets": [\#(list.joined(separator: ","))], "abm": {"agents_per_cohort": \#(agents), "seed": 3, "aggregation_level": "\#(level)"\#(extra)}}"#
    }

    @Test(arguments: ["cohort", "sampled", "full"])
    func chunksConcatenateToTheWholeEncoding(level: String) throws {
        let result = try run(Self.body(buckets: 7, horizon: 24, level: level, extra: #", "enable_staking": true, "enable_treasury": true"#))
        let whole = JSONWriter.bytes(result.json())
        var chunks: [[UInt8]] = []
        result.jsonStream().write(chunkSize: 1000) { (chunk: [UInt8]) in chunks.append(chunk) }
        #expect(chunks.count > 5)
        #expect(Array(chunks.joined()) == whole)
        // Every chunk but the last is at least the chunk size and at most one element beyond it.
        for c in chunks.dropLast() { #expect(c.count >= 1000 && c.count < 1000 + 4096) }
        #expect(result.jsonStream().bytes == whole)
    }

    @Test func emptyArraysAndNullsMatchTheWriter() {
        let s = JSONStream.object([
            ("a", .elements([Int]()) { .integer($0) }), ("b", .elements(nil as [Int]?) { .integer($0) }), ("c", .object([])),
            ("d", .value(["x": 1.5])),
        ])
        #expect(String(decoding: s.bytes, as: UTF8.self) == #"{"a":[],"b":null,"c":{},"d":{"x":1.5}}"#)
        #expect(JSONWriter.bytes(s.value) == s.bytes)
    }

    @Test func anEmitErrorStopsTheWrite() {
        struct Stop: Error {}
        let s = JSONStream.elements(Array(0..<10_000)) { .integer($0) }
        var calls = 0
        #expect(throws: Stop.self) {
            try s.write(chunkSize: 100) { (_: [UInt8]) throws(Stop) in
                calls += 1
                if calls == 3 { throw Stop() }
            }
        }
        #expect(calls == 3)
    }

    /// The prediction is never below the real size and not far above it.
    @Test(arguments: [(3, 12, "cohort"), (40, 120, "cohort"), (20, 60, "sampled"), (4, 36, "full"), (1, 1, "cohort")])
    func predictedSizeBoundsTheResult(buckets: Int, horizon: Int, level: String) throws {
        let text = Self.body(buckets: buckets, horizon: horizon, level: level, extra: #", "enable_staking": true, "enable_treasury": true"#)
        let request = try abmRequest(text)
        let actual = try run(text).jsonStream().bytes.count
        let predicted = ResultSize.abm(request)
        #expect(predicted >= actual)
        #expect(predicted <= actual * 4 + 70_000, "\(predicted) vs \(actual)")
    }

    @Test func predictedV1SizeBoundsTheResult() throws {
        let buckets = (0..<50).map { #"{"bucket": "B\#($0)", "allocation": 2, "tge_unlock_pct": 5, "cliff_months": 3, "vesting_months": 24}"# }
        for tier in ["tier1", "tier2", "tier3"] {
            let text = #"{"config": {"token": {"name": "V", "total_supply": 1000000, "start_date": "2026-01-01", "horizon_months": 60, "simulation_mode": "\#(tier)", "allocation_mode": "percent"}, "buckets": [\#(buckets.joined(separator: ","))], "tier3": {"monte_carlo": {"enabled": true, "num_trials": 10}}}}"#
            let config = try V1ConfigDecoder.decode(bytes: Array(text.utf8)).get()
            let actual = try V1Engine.run(config).responseStream(executionTimeMs: 1.25).bytes.count
            let predicted = ResultSize.v1(config)
            #expect(predicted >= actual && predicted <= actual * 3 + 70_000, "\(tier): \(predicted) vs \(actual)")
        }
    }

    /// `sampled` has the same snapshot cap as `full`: 1000 cohorts x 10 agents x 240 months is refused.
    @Test func sampledSnapshotsShareTheFullCap() {
        let issues = abmIssues(Self.body(buckets: 1000, horizon: 240, level: "sampled", agents: 20))
        #expect(issues.count == 1)
        #expect(issues.first?.loc.map(\.description).suffix(2) == ["abm", "aggregation_level"])
        #expect(issues.first?.msg.contains("'sampled' would return 2400000 agent snapshots; the limit is 250000") == true)
        #expect(abmIssues(Self.body(buckets: 100, horizon: 240, level: "sampled", agents: 20)).isEmpty)
    }

    @Test func cancellationStopsAV1RunEarly() throws {
        let buckets = (0..<100).map { #"{"bucket": "B\#($0)", "allocation": 1, "tge_unlock_pct": 5, "cliff_months": 3, "vesting_months": 24}"# }
        let text = #"{"config": {"token": {"name": "V", "total_supply": 1000000, "start_date": "2026-01-01", "horizon_months": 240, "simulation_mode": "tier3", "allocation_mode": "percent"}, "buckets": [\#(buckets.joined(separator: ","))], "tier3": {"monte_carlo": {"enabled": true, "num_trials": 50}}}}"#
        let config = try V1ConfigDecoder.decode(bytes: Array(text.utf8)).get()
        let polls = Counter()
        #expect(throws: SimulationError.cancelled) {
            try V1Engine.run(config, maxConcurrency: 1, isCancelled: { polls.next() > 300 })
        }
        // Stopped at the month the flag was raised: after it, each of the 50 trials polls once and runs
        // nothing (a full run polls 241 x 51 times).
        #expect(polls.value <= 301 + 50 + 3)
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var n = 0
        func next() -> Int { lock.withLock { n += 1; return n } }
        var value: Int { lock.withLock { n } }
    }

    /// Tiers 2 and 3 report the economy's state as numbers even when a feature is off (0.0, not null);
    /// tier 1 has no economy and keeps null.
    @Test func v1EconomyFieldsAreNumbersInTiers2And3() throws {
        for (tier, numbers) in [("tier1", false), ("tier2", true), ("tier3", true)] {
            let text = #"{"config": {"token": {"name": "V", "total_supply": 1000000, "start_date": "2026-01-01", "horizon_months": 3, "simulation_mode": "\#(tier)", "allocation_mode": "percent"}, "buckets": [{"bucket": "Team", "allocation": 50, "tge_unlock_pct": 0, "cliff_months": 3, "vesting_months": 6}], "tier3": {"monte_carlo": {"enabled": true, "num_trials": 10}}}}"#
            let config = try V1ConfigDecoder.decode(bytes: Array(text.utf8)).get()
            let rows = try V1Engine.run(config).dataJSON["global_metrics"]?.arrayValue ?? []
            #expect(rows.count == 4)
            for row in rows {
                for key in ["sell_volume_ratio", "current_price", "staked_amount", "liquidity_deployed", "treasury_balance"] {
                    #expect((row[key]?.numberValue != nil) == numbers, "\(tier) \(key): \(String(describing: row[key]))")
                }
            }
        }
    }
}
