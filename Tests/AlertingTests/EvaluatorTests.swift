import Testing

@testable import Alerting

@Suite struct EvaluatorTests {
    func store(_ series: [(String, [Double?])], step: Int64 = 15_000) throws -> SampleStore {
        let s = SampleStore()
        for (text, values) in series {
            let labels = try RuleTestRunner.seriesLabels(text)
            for (i, v) in values.enumerated() { if let v { s.append(labels, t: Int64(i) * step, v: v) } }
        }
        return s
    }

    func vector(_ s: SampleStore, _ q: String, at t: Int64) throws -> [VectorSample] {
        try Evaluator(source: s).evaluate(try Parser.parse(q), at: t).asVector.sorted { $0.labels < $1.labels }
    }

    @Test func rateExtrapolatesAndHandlesCounterResets() throws {
        // 0, 10, 20, reset to 5, 15 every 15 s: increase 35 over 60 s of samples, extrapolated to the window.
        let s = try store([("c", [0, 10, 20, 5, 15])])
        let r = try vector(s, "increase(c[1m])", at: 60_000)
        #expect(r.count == 1)
        #expect(r[0].labels.isEmpty)
        #expect(r[0].value == 35)
        let rate = try vector(s, "rate(c[2m])", at: 60_000)
        // 60 s sampled; start is 60 s from the window start but the zero point of the counter is at the first sample.
        #expect(rate[0].value == 35.0 / 120.0, "the counter starts at zero on the first sample: no extrapolation before it")
        #expect(try vector(s, "rate(c[10s])", at: 60_000).isEmpty, "one sample is not enough for a rate")
    }

    @Test func lookbackAndStaleness() throws {
        let s = try store([("g", [1, nil, nil, Sample.staleNaN, 5])], step: 60_000)
        #expect(try vector(s, "g", at: 120_000).map(\.value) == [1], "bridged by the 5-minute lookback")
        #expect(try vector(s, "g", at: 180_000).isEmpty, "a staleness marker ends the series at once")
        #expect(try vector(s, "g", at: 240_000).map(\.value) == [5])
        let old = try store([("h", [1])], step: 60_000)
        #expect(try vector(old, "h", at: 300_000).map(\.value) == [1])
        #expect(try vector(old, "h", at: 300_001).isEmpty, "older than 5 minutes")
    }

    @Test func batchesMarkVanishedSeriesStale() {
        let s = SampleStore()
        s.appendBatch(source: "scrape", [(Labels(["__name__": "x", "a": "1"]), 1), (Labels(["__name__": "x", "a": "2"]), 2)], at: 0)
        s.appendBatch(source: "scrape", [(Labels(["__name__": "x", "a": "1"]), 1)], at: 15_000)
        let r = Evaluator(source: s).instant(VectorSelector(name: "x", matchers: [try! LabelMatcher("__name__", .equal, "x")], offset: 0), at: 20_000)
        #expect(r.map { $0.labels["a"] } == ["1"])
    }

    @Test func histogramQuantileFollowsPrometheus() {
        func b(_ pairs: [(Double, Double)]) -> Double { Evaluator.bucketQuantile(0.5, pairs) }
        #expect(b([(1, 10), (2, 20), (.infinity, 20)]) == 1)
        #expect(b([(1, 0), (2, 20), (.infinity, 20)]) == 1.5)
        #expect(b([(1, 0), (2, 10), (.infinity, 20)]) == 2, "the +Inf bucket answers the highest finite bound")
        #expect(b([(1, 10), (2, 20)]).isNaN, "no +Inf bucket")
        #expect(b([(.infinity, 0)]).isNaN)
        #expect(Evaluator.bucketQuantile(-1, [(1, 1), (.infinity, 1)]) == -.infinity)
        #expect(Evaluator.bucketQuantile(2, [(1, 1), (.infinity, 1)]) == .infinity)
        // Non-monotonic counts (a scrape between bucket updates) are made monotonic.
        #expect(b([(1, 10), (2, 8), (.infinity, 20)]) == 1)
        #expect(b([(1, 4), (2, 3), (.infinity, 20)]) == 2)
    }

    @Test func vectorMatchingErrorsLikePrometheus() throws {
        let s = try store([(#"x{a="1",b="1"}"#, [1]), (#"x{a="1",b="2"}"#, [2]), (#"y{a="1"}"#, [3])])
        #expect(throws: EvaluationError.self) { _ = try vector(s, "y + on (a) x", at: 0) }
        #expect(throws: EvaluationError.self) { _ = try vector(s, "x + on (a) y", at: 0) }
        #expect(try vector(s, "x + on (a, b) x", at: 0).map(\.value) == [2, 4])
        #expect(try vector(s, "x and on (a) y", at: 0).count == 2)
        #expect(try vector(s, "absent(nothing{a=\"1\",a=\"2\",b=\"3\"})", at: 0).map(\.labels) == [Labels(["b": "3"])])
    }

    @Test func comparisonsKeepNamesArithmeticDropsThem() throws {
        let s = try store([(#"x{a="1"}"#, [5])])
        #expect(try vector(s, "x > 1", at: 0)[0].labels.name == "x")
        #expect(try vector(s, "1 < x", at: 0)[0].value == 5, "the vector's value, even on the right")
        #expect(try vector(s, "x > bool 10", at: 0)[0] == VectorSample(labels: Labels(["a": "1"]), value: 0))
        #expect(try vector(s, "x * 2", at: 0)[0].labels.name == nil)
    }
}
