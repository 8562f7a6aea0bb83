import Testing

@testable import Alerting

@Suite struct PromQLParserTests {
    @Test func parsesTheSubset() throws {
        let accepted = [
            #"up{job="abm",instance!="x",route=~"/api/.*",status!~"2.."}"#, "x offset 5m", "rate(x[5m] offset 1m)",
            "irate(x[1m])", "increase(x[1h30m])", "delta(x[10m])", "avg_over_time(x[5m])", "min_over_time(x[5m])", "max_over_time(x[5m])",
            "sum_over_time(x[5m])", "count_over_time(x[5m])", "histogram_quantile(0.95, sum by (le) (rate(h_bucket[5m])))",
            "absent(x)", "clamp_min(x, 0)", "clamp_max(x, 1)", "time()", "vector(1)", "scalar(x)", "sum without (a) (x)",
            "avg(x) by (a)", "min(x)", "max(x)", "count(x)", "x + y", "x - on (a) y", "x * ignoring (b) y", "x / 2", "x % 3", "2 ^ x",
            "x == bool 1", "x != 1", "x > 1", "x < 1", "x >= 1", "x <= 1", "x and y", "x or y", "x unless on (a) y", "-x", "+x", "(x)",
            "1e3", "0x1f", "Inf", "-NaN", "x{a='single'}", "x{a=`raw\\d`}", "{__name__=\"x\"}", "a:b:c",
        ]
        for text in accepted {
            #expect(throws: Never.self, "\(text)") { _ = try Parser.parse(text) }
        }
    }

    /// Everything outside the subset is refused with its position (1-based, as promtool prints it).
    @Test(arguments: [
        ("topk(3, x)", "outside the supported subset", 1),
        ("label_replace(x, \"a\", \"b\", \"c\", \"d\")", "outside the supported subset", 1),
        ("rate(x[5m:1m])", "subqueries", 10),
        ("x @ 100", "@ modifier", 3),
        ("x + on (a) group_left y", "group_left", 12),
        ("rate(x)", "expected type range vector", 1),
        ("sum(x[5m])", "expected type instant vector in aggregation", 4),
        ("1 > 2", "BOOL modifier", 3),
        ("{}", "at least one non-empty matcher", 1),
        ("{a=~\".*\"}", "at least one non-empty matcher", 1),
        ("x[5m]", "must evaluate to an instant vector or a scalar", 1),
        ("x and 1", "set operator", 3),
        ("1 + on (a) x", "vector matching only allowed between instant vectors", 3),
        ("x{a=~\"(\"}", "invalid regular expression", 6),
        ("x +", "unexpected end of input", 4),
        ("sum by (a (x)", "expected", 11),
        ("x > bool", "unexpected end of input", 9),
        ("stddev(x)", "aggregation \"stddev\" is outside the supported subset", 1),
        ("x[0s]", "range must be positive", 2),
        ("5m", "unexpected duration", 1),
    ] as [(String, String, Int)])
    func rejects(_ text: String, _ message: String, _ position: Int) {
        do {
            _ = try Parser.parse(text)
            Issue.record("\(text) parsed")
        } catch {
            #expect(error.description.contains(message), "\(text): \(error)")
            #expect(error.position + 1 == position, "\(text): \(error)")
        }
    }

    @Test func precedenceAndAssociativity() throws {
        let store = SampleStore()
        let e = Evaluator(source: store)
        func value(_ text: String) throws -> Double {
            guard case .scalar(let v) = try e.evaluate(try Parser.parse(text), at: 0) else { throw EvaluationError("not a scalar") }
            return v
        }
        #expect(try value("1 + 2 * 3") == 7)
        #expect(try value("2 ^ 3 ^ 2") == 512)
        #expect(try value("-2 ^ 2") == -4)
        #expect(try value("(1 + 2) * 3") == 9)
        #expect(try value("10 - 4 - 3") == 3)
        #expect(try value("7 % 4 * 2") == 6)
        #expect(try value("1 < bool 2 == bool 1") == 1)
    }

    @Test func durations() {
        #expect(PromDuration.parse("1h30m") == 5_400_000)
        #expect(PromDuration.parse("250ms") == 250)
        let twoWeeks: Int64 = 14 * 86_400_000
        #expect(PromDuration.parse("2w") == twoWeeks)
        #expect(PromDuration.parse("0") == 0)
        #expect(PromDuration.parse("5") == nil)
        #expect(PromDuration.parse("5x") == nil)
        #expect(PromDuration.format(5_400_000) == "1h30m")
    }
}
