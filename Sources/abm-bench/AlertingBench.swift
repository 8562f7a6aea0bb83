import Alerting
import Foundation

/// `abm-bench alerting SERIES RULES`: a sample store holding SERIES series (50 counter families with
/// SERIES/50 series each, scraped every 15 s for an hour), RULES rules spread over the families (rates
/// summed by a label, ratios with one-to-one matching, quantiles of histograms, `*_over_time`, `absent`),
/// and the time of one evaluation of every group: the median over 50 evaluations at successive scrapes.
enum AlertingBench {
    static func run(series: Int, rules: Int, evaluations: Int = 50) throws -> [String: Any] {
        let families = 50
        let perFamily = max(1, series / families)
        var yaml = "groups:\n"
        let kinds = 8
        for g in 0..<(rules / 10) {
            yaml += "  - name: g\(g)\n    rules:\n"
            for r in 0..<10 {
                let i = g * 10 + r
                let f = i % families
                let m = "bench_family_\(f)_total"
                let expr: String
                switch i % kinds {
                case 0: expr = "sum by (route) (rate(\(m)[5m])) > 100"
                case 1: expr = "sum by (instance) (rate(\(m){code=~\"5..\"}[5m])) / sum by (instance) (rate(\(m)[5m])) > 0.01"
                case 2: expr = "histogram_quantile(0.95, sum by (le) (rate(\(m)[5m]))) > 0.25"
                case 3: expr = "sum without (shard) (avg_over_time(\(m)[10m])) > sum without (shard) (\(m) offset 5m)"
                case 4: expr = "max(increase(\(m)[15m])) by (code) > 1e9"
                case 5: expr = "absent(\(m){route=\"/nope\"}) == 0"
                case 6: expr = "count(irate(\(m)[1m]) > bool 5) by (code) > 1e9"
                default: expr = "clamp_max(delta(\(m)[5m]), 1) < -1"
                }
                yaml += "      - alert: A\(i)\n        expr: '\(expr)'\n        for: 5m\n        labels: {severity: warning}\n        annotations: {summary: \"{{ $labels.instance }} {{ $value | humanize }}\"}\n"
            }
        }
        let definitions = try RuleFile.parse(yaml, path: "bench.yml").groups
        let groups = definitions.map { RuleGroup($0, defaultInterval: 15_000) }
        let retention = AlertingService.retention(for: groups, interval: 15_000)
        let rssBefore = residentMiB()
        let store = SampleStore(retention: retention)
        // Label sets: le buckets make the histogram rule meaningful; code and route spread the rest.
        var labelSets: [Labels] = []
        let les = ["0.05", "0.1", "0.25", "0.5", "1", "+Inf"]
        for f in 0..<families {
            for s in 0..<perFamily {
                labelSets.append(Labels([
                    ("__name__", "bench_family_\(f)_total"), ("instance", "host\(s % 4):8000"), ("route", "/r\(s % 5)"),
                    ("code", s % 10 == 0 ? "500" : "200"), ("le", les[s % les.count]), ("shard", "\(s)"),
                ]))
            }
        }
        let step: Int64 = 15_000
        let warm = 240  // one hour of scrapes
        var t: Int64 = 0
        for k in 0..<warm {
            t = Int64(k) * step
            store.appendBatch(source: "scrape", labelSets.enumerated().map { ($0.element, Double(k * ($0.offset % 7 + 1))) }, at: t)
            store.expire(now: t)
        }
        let rssAfter = residentMiB()
        var times: [Double] = []
        let clock = ContinuousClock()
        for k in 0..<evaluations {
            t += step
            store.appendBatch(source: "scrape", labelSets.enumerated().map { ($0.element, Double((warm + k) * ($0.offset % 7 + 1))) }, at: t)
            store.expire(now: t)
            let start = clock.now
            for g in groups { g.evaluate(at: t, store: store) }
            let d = clock.now - start
            times.append(Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15)
        }
        times.sort()
        let failing = groups.flatMap(\.rules).filter { $0.health != "ok" }.map { "\($0.definition.name): \($0.lastError)" }
        let storeSeries = store.seriesCount
        return [
            "case": "alerting", "series": storeSeries, "rules": groups.flatMap(\.rules).count,
            "samples": store.sampleCount, "median_eval_ms": times[times.count / 2], "p95_eval_ms": times[times.count * 95 / 100],
            "store_bytes_per_series": Double(store.approximateBytes) / Double(max(1, storeSeries)),
            "rss_bytes_per_series": (rssAfter - rssBefore) * 1_048_576 / Double(max(1, storeSeries)),
            "rule_errors": failing.count, "first_error": failing.first ?? "",
        ]
    }

    static func residentMiB() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return (line.split(separator: " ").compactMap { Double($0) }.first ?? 0) / 1024
        }
        return 0
    }
}
