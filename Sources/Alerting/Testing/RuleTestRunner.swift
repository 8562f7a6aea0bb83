import Foundation
import Telemetry
import Yams

/// Runs rule unit-test files in promtool's format (`rule_files`, `evaluation_interval`, `group_eval_order`,
/// `tests` with `input_series` in the expanding notation, `alert_rule_test` and `promql_expr_test`) with
/// this module's evaluator, the way `promtool test rules` does: groups are evaluated at every evaluation
/// interval from time 0, alert tests compare the firing alerts at their `eval_time`, expression tests query
/// the resulting storage.
public enum RuleTestRunner {
    public struct Outcome: Sendable {
        public var passed: Bool
        public var report: String
    }

    public static func run(file: String) -> Outcome {
        var report = "Unit Testing:  \(file)\n"
        do {
            let failures = try runFile(file)
            if failures.isEmpty {
                report += "  SUCCESS\n"
                return Outcome(passed: true, report: report)
            }
            report += "  FAILED:\n" + failures.map { "    " + $0.replacingOccurrences(of: "\n", with: "\n    ") }.joined(separator: "\n") + "\n"
        } catch {
            report += "  FAILED:\n    \(error)\n"
        }
        return Outcome(passed: false, report: report)
    }

    struct Failure: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    static func runFile(_ file: String) throws -> [String] {
        let text = try String(contentsOfFile: file, encoding: .utf8)
        guard let root = try Yams.compose(yaml: text) else { throw Failure(message: "empty test file") }
        let directory = PathString.parent(of: file)
        var ruleFiles: [RuleFile] = []
        for pattern in root["rule_files"]?.array().compactMap(\.string) ?? [] {
            for path in try resolve(pattern, relativeTo: directory) { ruleFiles.append(try RuleFile.load(path: path)) }
        }
        let evaluationInterval = try root["evaluation_interval"]?.string.map(duration) ?? 60_000
        let order = root["group_eval_order"]?.array().compactMap(\.string) ?? []
        var failures: [String] = []
        for (index, test) in (root["tests"]?.array() ?? []).enumerated() {
            let groups = orderedGroups(ruleFiles, order: order, evaluationInterval: evaluationInterval)
            let name = test["name"]?.string ?? "test \(index + 1)"
            do {
                failures += try runTest(test, groups: groups, evaluationInterval: evaluationInterval).map { "\(name): \($0)" }
            } catch {
                failures.append("\(name): \(error)")
            }
        }
        return failures
    }

    static func duration(_ s: String) throws -> Int64 {
        guard let d = PromDuration.parse(s) else { throw Failure(message: "invalid duration \"\(s)\"") }
        return d
    }

    static func resolve(_ pattern: String, relativeTo directory: String) throws -> [String] {
        let full = pattern.hasPrefix("/") ? pattern : (directory.isEmpty ? pattern : directory + "/" + pattern)
        guard full.contains("*") || full.contains("?") else { return [full] }
        let dir = PathString.parent(of: full)
        let base = PathString.lastComponent(of: full)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { fnmatch(base, $0, 0) == 0 }.sorted().map { dir + "/" + $0 }
    }

    static func orderedGroups(_ files: [RuleFile], order: [String], evaluationInterval: Int64) -> [RuleGroup] {
        var all = files.flatMap(\.groups)
        if !order.isEmpty {
            all.sort { (order.firstIndex(of: $0.name) ?? .max) < (order.firstIndex(of: $1.name) ?? .max) }
        }
        return all.map { RuleGroup($0, defaultInterval: evaluationInterval) }
    }

    /// Expands promtool's value notation: `1 2 _ stale`, `a+bxn`, `a-bxn`, `axn`, `_xn`.
    public static func expandValues(_ text: String) throws -> [Double?] {
        var out: [Double?] = []
        for word in text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init) {
            if word == "_" {
                out.append(nil)
                continue
            }
            if word == "stale" {
                out.append(Sample.staleNaN)
                continue
            }
            if !word.contains("x"), let v = Evaluator.parseFloat(word) {
                out.append(v)
                continue
            }
            guard let x = word.lastIndex(of: "x"), let n = Int(word[word.index(after: x)...]), n >= 0 else {
                throw Failure(message: "invalid value \"\(word)\" in input series")
            }
            let head = String(word[..<x])
            if head == "_" {
                out.append(contentsOf: [Double?](repeating: nil, count: n))
                continue
            }
            // Split "a+b" or "a-b" at the operator that is not a leading sign or an exponent's sign.
            var split: String.Index?
            var i = head.index(after: head.startIndex)
            while i < head.endIndex {
                let c = head[i]
                let previous = head[head.index(before: i)]
                if (c == "+" || c == "-") && previous != "e" && previous != "E" { split = i }
                i = head.index(after: i)
            }
            let start: Double
            var step = 0.0
            if let split {
                guard let a = Evaluator.parseFloat(String(head[..<split])), let b = Evaluator.parseFloat(String(head[head.index(after: split)...])) else {
                    throw Failure(message: "invalid value \"\(word)\" in input series")
                }
                start = a
                step = head[split] == "-" ? -b : b
            } else {
                guard let a = Evaluator.parseFloat(head) else { throw Failure(message: "invalid value \"\(word)\" in input series") }
                start = a
            }
            for k in 0...n { out.append(start + Double(k) * step) }
        }
        return out
    }

    static func seriesLabels(_ text: String) throws -> Labels {
        if text.filter({ !$0.isWhitespace }) == "{}" { return Labels() }
        let e: Expr
        do { e = try Parser.parse(text) } catch { throw Failure(message: "invalid series \"\(text)\": \(error)") }
        var selector: VectorSelector?
        if case .selector(let s) = e { selector = s }
        guard let s = selector, s.offset == 0, s.matchers.allSatisfy({ $0.kind == .equal }) else {
            throw Failure(message: "invalid series \"\(text)\": not a plain series description")
        }
        return Labels(s.matchers.map { ($0.name, $0.value) })
    }

    static func runTest(_ test: Node, groups: [RuleGroup], evaluationInterval: Int64) throws -> [String] {
        let interval = try test["interval"]?.string.map(duration) ?? evaluationInterval
        let external = test["external_labels"].map { node -> [String: String] in
            var d: [String: String] = [:]
            if case .mapping(let m) = node { for (k, v) in m { d[k.string ?? ""] = v.string ?? "" } }
            return d
        } ?? [:]
        let store = SampleStore()
        for s in test["input_series"]?.array() ?? [] {
            let labels = try seriesLabels(s["series"]?.string ?? "")
            for (i, v) in try expandValues(s["values"]?.string ?? "").enumerated() {
                if let v { store.append(labels, t: Int64(i) * interval, v: v) }
            }
        }
        for g in groups { g.externalLabels = external }
        struct AlertTest {
            var evalTime: Int64
            var alertname: String
            var expected: [(Labels, [String: String])]
        }
        var alertTests: [AlertTest] = []
        for a in (test["alert_rule_test"] ?? test["alert_rule_tests"])?.array() ?? [] {
            let name = a["alertname"]?.string ?? ""
            var expected: [(Labels, [String: String])] = []
            for e in a["exp_alerts"]?.array() ?? [] {
                var labels: [String: String] = [:]
                var annotations: [String: String] = [:]
                if case .mapping(let m)? = e["exp_labels"] { for (k, v) in m { labels[k.string ?? ""] = v.string ?? "" } }
                if case .mapping(let m)? = e["exp_annotations"] { for (k, v) in m { annotations[k.string ?? ""] = v.string ?? "" } }
                labels["alertname"] = name
                expected.append((Labels(labels), annotations))
            }
            alertTests.append(AlertTest(evalTime: try duration(a["eval_time"]?.string ?? "0s"), alertname: name, expected: expected))
        }
        alertTests.sort { $0.evalTime < $1.evalTime }
        let exprTests = (test["promql_expr_test"] ?? test["promql_expr_tests"])?.array() ?? []
        var maxEval: Int64 = alertTests.map(\.evalTime).max() ?? 0
        for e in exprTests { maxEval = max(maxEval, try duration(e["eval_time"]?.string ?? "0s")) }

        var failures: [String] = []
        var next = 0
        var ts: Int64 = 0
        while ts <= maxEval {
            for g in groups { g.evaluate(at: ts, store: store) }
            while next < alertTests.count && ts <= alertTests[next].evalTime && alertTests[next].evalTime < ts + evaluationInterval {
                let t = alertTests[next]
                next += 1
                var got: [(Labels, [String: String])] = []
                for g in groups {
                    for r in g.rules where r.definition.kind == .alerting && r.definition.name == t.alertname {
                        for a in r.active.values where a.state == .firing { got.append((a.labels, a.annotations)) }
                    }
                }
                let exp = t.expected.sorted { $0.0 < $1.0 }
                got.sort { $0.0 < $1.0 }
                let same = exp.count == got.count && zip(exp, got).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
                if !same {
                    failures.append(
                        "alertname: \(t.alertname), time: \(PromDuration.format(t.evalTime)),\n    exp:\(describe(exp)),\n    got:\(describe(got))")
                }
            }
            ts += evaluationInterval
        }
        for e in exprTests {
            let text = e["expr"]?.string ?? ""
            let at = try duration(e["eval_time"]?.string ?? "0s")
            var expected: [VectorSample] = []
            for s in e["exp_samples"]?.array() ?? [] {
                let labels = try s["labels"]?.string.map(seriesLabels) ?? Labels()
                guard let v = s["value"]?.string.flatMap(Evaluator.parseFloat) else { throw Failure(message: "exp_samples: missing value") }
                expected.append(VectorSample(labels: labels, value: v))
            }
            let got: [VectorSample]
            do {
                let expr = try Parser.parse(text)
                got = try Evaluator(source: store).evaluate(expr, at: at).asVector
            } catch {
                failures.append("expr: \"\(text)\", time: \(PromDuration.format(at)), err: \(error)")
                continue
            }
            let exp = expected.sorted { $0.labels < $1.labels }
            let sortedGot = got.sorted { $0.labels < $1.labels }
            let same = exp.count == sortedGot.count && zip(exp, sortedGot).allSatisfy { $0.labels == $1.labels && $0.value == $1.value }
            if !same {
                failures.append(
                    "expr: \"\(text)\", time: \(PromDuration.format(at)),\n    exp: \(exp.map { "\($0.labels) \(GoFormat.exponential($0.value))" }),\n    got: \(sortedGot.map { "\($0.labels) \(GoFormat.exponential($0.value))" })"
                )
            }
        }
        return failures
    }

    static func describe(_ alerts: [(Labels, [String: String])]) -> String {
        "[" + alerts.enumerated().map { i, a in "\n        \(i)::Labels:\(a.0) Annotations:\(a.1.sorted { $0.key < $1.key })" }.joined() + "]"
    }
}
