import Foundation
import Yams

/// A rule file in Prometheus's rule-group format, parsed and checked: every expression against the
/// supported PromQL subset, every template, every name. Errors name the file, the line, the group and
/// the rule, and the position inside the expression.
public struct RuleFile: Sendable {
    public let path: String
    public let groups: [RuleGroupDefinition]

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let messages: [String]
        public var description: String { messages.joined(separator: "\n") }
    }

    public static func load(path: String) throws(Failure) -> RuleFile {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw Failure(messages: ["\(path): cannot read the file: \(error.localizedDescription)"])
        }
        return try parse(text, path: path)
    }

    public static func parse(_ text: String, path: String) throws(Failure) -> RuleFile {
        var problems: [String] = []
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            throw Failure(messages: ["\(path): invalid YAML: \(error)"])
        }
        guard let root else { return RuleFile(path: path, groups: []) }
        func at(_ n: Node?) -> String { n?.mark.map { "\(path):\($0.line)" } ?? path }
        guard case .mapping(let top) = root else { throw Failure(messages: ["\(at(root)): the file must be a mapping with a \"groups\" key"]) }
        for (k, _) in top where k.string != "groups" { problems.append("\(at(k)): unknown key \"\(k.string ?? "?")\" (only \"groups\")") }
        var groups: [RuleGroupDefinition] = []
        var groupNames: Set<String> = []
        for g in root["groups"]?.array() ?? [] {
            guard case .mapping(let gm) = g else {
                problems.append("\(at(g)): a group must be a mapping")
                continue
            }
            let name = g["name"]?.string ?? ""
            if name.isEmpty { problems.append("\(at(g)): group has no name") }
            if !groupNames.insert(name).inserted { problems.append("\(at(g)): group \"\(name)\": repeated in the same file") }
            for (k, _) in gm where !["name", "interval", "rules", "limit"].contains(k.string ?? "") {
                problems.append("\(at(k)): group \"\(name)\": unknown key \"\(k.string ?? "?")\"")
            }
            var interval: Int64?
            if let iv = g["interval"]?.string {
                if let d = PromDuration.parse(iv), d > 0 { interval = d } else { problems.append("\(at(g["interval"])): group \"\(name)\": invalid interval \"\(iv)\"") }
            }
            if let limit = g["limit"], limit.int != 0 {
                problems.append("\(at(limit)): group \"\(name)\": a non-zero limit is not supported")
            }
            var rules: [RuleDefinition] = []
            for (index, r) in (g["rules"]?.array() ?? []).enumerated() {
                let where_ = "\(at(r)): group \"\(name)\", rule \(index + 1)"
                do { rules.append(try RuleDefinition.parse(r, context: where_)) } catch { problems.append(contentsOf: error.messages) }
            }
            groups.append(RuleGroupDefinition(name: name, file: path, interval: interval, rules: rules))
        }
        if root["groups"] == nil { problems.append("\(path): no \"groups\" key") }
        if !problems.isEmpty { throw Failure(messages: problems) }
        return RuleFile(path: path, groups: groups)
    }
}

public struct RuleGroupDefinition: Sendable {
    public let name: String
    public let file: String
    public let interval: Int64?  // milliseconds; nil means the evaluation interval
    public let rules: [RuleDefinition]
}

public struct RuleDefinition: Sendable {
    public enum Kind: String, Sendable { case recording, alerting }
    public let kind: Kind
    public let name: String
    public let exprText: String
    public let expr: Expr
    public let holdDuration: Int64  // for, in milliseconds
    public let keepFiringFor: Int64
    public let labels: [(String, Template)]
    public let annotations: [(String, Template)]

    public var severity: String? { labels.first { $0.0 == "severity" }?.1.source }
    public var runbook: String? { annotations.first { $0.0 == "runbook_url" }?.1.source }

    static func isMetricName(_ s: String) -> Bool {
        guard let f = s.unicodeScalars.first, f == "_" || f == ":" || CharacterSet.letters.contains(f), f.isASCII else { return false }
        return s.unicodeScalars.allSatisfy { $0.isASCII && ($0 == "_" || $0 == ":" || CharacterSet.alphanumerics.contains($0)) }
    }

    static func isLabelName(_ s: String) -> Bool { isMetricName(s) && !s.contains(":") }

    static func parse(_ r: Node, context: String) throws(RuleFile.Failure) -> RuleDefinition {
        var problems: [String] = []
        guard case .mapping(let m) = r else { throw RuleFile.Failure(messages: ["\(context): a rule must be a mapping"]) }
        for (k, _) in m where !["record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations"].contains(k.string ?? "") {
            problems.append("\(context): unknown key \"\(k.string ?? "?")\"")
        }
        let record = r["record"]?.string
        let alert = r["alert"]?.string
        let kind: Kind = alert != nil ? .alerting : .recording
        let name = alert ?? record ?? ""
        let label = "\(context) (\(alert != nil ? "alert" : "record") \"\(name)\")"
        if (record == nil) == (alert == nil) { problems.append("\(context): exactly one of \"record\" and \"alert\" must be set") }
        if let record, !isMetricName(record) { problems.append("\(label): invalid recording rule name") }
        if let alert, alert.isEmpty { problems.append("\(label): empty alert name") }
        let exprText = r["expr"]?.string ?? ""
        var expr: Expr = .number(0)
        if exprText.isEmpty {
            problems.append("\(label): field \"expr\" must be set")
        } else {
            do { expr = try Parser.parse(exprText) } catch { problems.append("\(label): could not parse expression: \(error) in \"\(exprText)\"") }
        }
        func duration(_ key: String) -> Int64 {
            guard let s = r[key]?.string else { return 0 }
            guard let d = PromDuration.parse(s) else {
                problems.append("\(label): invalid \(key) duration \"\(s)\"")
                return 0
            }
            if kind == .recording { problems.append("\(label): invalid field \"\(key)\" in recording rule") }
            return d
        }
        let hold = duration("for")
        let keep = duration("keep_firing_for")
        func templates(_ key: String) -> [(String, Template)] {
            guard let node = r[key] else { return [] }
            guard case .mapping(let map) = node else {
                problems.append("\(label): \"\(key)\" must be a mapping")
                return []
            }
            var out: [(String, Template)] = []
            for (k, v) in map {
                let n = k.string ?? ""
                if !isLabelName(n) { problems.append("\(label): invalid \(key) name \"\(n)\"") }
                do { out.append((n, try Template(v.string ?? ""))) } catch { problems.append("\(label): \(key) \(n): \(error)") }
            }
            return out
        }
        let labels = templates("labels")
        let annotations = templates("annotations")
        if kind == .recording && !annotations.isEmpty { problems.append("\(label): invalid field \"annotations\" in recording rule") }
        if !problems.isEmpty { throw RuleFile.Failure(messages: problems) }
        return RuleDefinition(
            kind: kind, name: name, exprText: exprText, expr: expr, holdDuration: hold, keepFiringFor: keep, labels: labels,
            annotations: annotations)
    }
}

/// Prometheus durations (`30s`, `1h30m`, `0`), in milliseconds.
public enum PromDuration {
    public static func parse(_ s: String) -> Int64? {
        if s == "0" { return 0 }
        guard let t = try? Lexer.tokens(s), t.count == 2, case .duration(let d) = t[0].kind else { return nil }
        return d
    }

    public static func format(_ ms: Int64) -> String {
        if ms == 0 { return "0s" }
        var rest = ms
        var out = ""
        for (u, size) in [("y", Int64(365 * 86_400_000)), ("w", 7 * 86_400_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)] {
            if rest >= size {
                out += "\(rest / size)\(u)"
                rest %= size
            }
        }
        return out
    }
}
