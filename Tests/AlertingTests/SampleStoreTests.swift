import Testing

@testable import Alerting

@Suite struct SampleStoreTests {
    @Test func keepsOnlyWhatTheRulesNeed() throws {
        let group = try RuleFile.parse(
            """
            groups:
              - name: g
                rules:
                  - record: r
                    expr: rate(long[1h]) + short
            """, path: "t.yml"
        ).groups
        let groups = group.map { RuleGroup($0, defaultInterval: 15_000) }
        let retention = AlertingService.retention(for: groups, interval: 15_000)
        let long: Int64 = 3_600_000 + 300_000 + 30_000
        let short: Int64 = 300_000 + 30_000
        #expect(retention("long") == long)
        #expect(retention("short") == short)
        #expect(retention("unused") == nil)
        let store = SampleStore(retention: retention)
        for i in 0..<2000 {
            let t = Int64(i) * 15_000
            store.appendBatch(
                source: "scrape",
                [(Labels(["__name__": "long"]), Double(i)), (Labels(["__name__": "short"]), 1), (Labels(["__name__": "unused"]), 1)], at: t)
            store.expire(now: t)
        }
        #expect(store.seriesCount == 2, "names no rule reads are not stored")
        // 1h + 5m30s of 15 s samples, plus the newest, for `long`; 5m30s for `short`.
        #expect(store.sampleCount == (3_930_000 / 15_000 + 1) + (330_000 / 15_000 + 1))
        #expect(store.approximateBytes < 64 * 1024)
    }

    @Test func expiredSeriesAreDropped() {
        let store = SampleStore(retention: { _ in 60_000 })
        store.append(Labels(["__name__": "x", "a": "1"]), t: 0, v: 1)
        store.append(Labels(["__name__": "x", "a": "2"]), t: 100_000, v: 1)
        store.expire(now: 120_000)
        #expect(store.seriesCount == 1)
        #expect(store.select([try! LabelMatcher("__name__", .equal, "x")], mint: 0, maxt: .max).map { $0.labels["a"] } == ["2"])
    }

    @Test func outOfOrderSamplesAreDropped() {
        let store = SampleStore()
        store.append(Labels(["__name__": "x"]), t: 10, v: 1)
        store.append(Labels(["__name__": "x"]), t: 5, v: 2)
        #expect(store.sampleCount == 1)
    }

    @Test func parsesTheExposition() throws {
        let text = """
            # HELP a_total A.
            # TYPE a_total counter
            a_total{route="/x",quote="a\\"b\\\\c"} 3
            b +Inf
            c{le="0.5"} NaN 1700000000000

            """
        let samples = try ExpositionParser.parse(text, extraLabels: [("job", "abm"), ("route", "ignored")])
        #expect(samples.count == 3)
        #expect(samples[0].0 == Labels(["__name__": "a_total", "route": "/x", "quote": "a\"b\\c", "job": "abm"]))
        #expect(samples[1].1 == .infinity)
        #expect(samples[2].1.isNaN)
        #expect(throws: ExpositionParser.Failure.self) { _ = try ExpositionParser.parse("x{a=\"1\" 3") }
        #expect(throws: ExpositionParser.Failure.self) { _ = try ExpositionParser.parse("x 0x5") }
    }
}
