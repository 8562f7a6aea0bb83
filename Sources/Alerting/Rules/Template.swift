import Foundation

/// The part of Go's text/template that alert labels and annotations use, with Prometheus's variables
/// (`$labels`, `$value`, `$externalLabels`, `.Labels`, `.Value`) and functions (`humanize`, `humanize1024`,
/// `humanizePercentage`, `humanizeDuration`, `printf`, `toUpper`, `toLower`, `title`). Parsed when the rules
/// load; anything else is rejected then, not when the alert fires.
public struct Template: Sendable {
    public struct Context: Sendable {
        public var labels: [String: String]
        public var externalLabels: [String: String]
        public var value: Double
        public init(labels: [String: String], externalLabels: [String: String] = [:], value: Double) {
            self.labels = labels
            self.externalLabels = externalLabels
            self.value = value
        }
    }

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let message: String
        public var description: String { message }
    }

    enum Operand: Sendable {
        case value, labels(String), externalLabels(String), string(String), number(Double)
    }

    struct Command: Sendable {
        var function: String?
        var arguments: [Operand]
    }

    enum Part: Sendable {
        case text(String)
        case pipeline([Command])
    }

    static let functions: Set<String> = ["humanize", "humanize1024", "humanizePercentage", "humanizeDuration", "printf", "toUpper", "toLower", "title"]

    public let source: String
    let parts: [Part]

    public init(_ source: String) throws(Failure) {
        self.source = source
        var parts: [Part] = []
        var rest = Substring(source)
        while let open = rest.range(of: "{{") {
            var text = String(rest[..<open.lowerBound])
            var inner = rest[open.upperBound...]
            guard let close = inner.range(of: "}}") else { throw Failure(message: "unclosed action in template \"\(source)\"") }
            var action = inner[..<close.lowerBound]
            rest = inner[close.upperBound...]
            if action.hasPrefix("-") {
                action = action.dropFirst()
                while text.last?.isWhitespace == true { text.removeLast() }
            }
            if action.hasSuffix("-") {
                action = action.dropLast()
                rest = rest.drop(while: \.isWhitespace)
            }
            inner = action
            if !text.isEmpty { parts.append(.text(text)) }
            let trimmed = inner.trimmingCharacters(in: .whitespaces)
            // Prometheus prepends these definitions itself; accept them verbatim.
            if ["$labels := .Labels", "$externalLabels := .ExternalLabels", "$value := .Value", "$externalURL := .ExternalURL"].contains(trimmed) {
                continue
            }
            parts.append(.pipeline(try Self.pipeline(trimmed, source: source)))
        }
        if !rest.isEmpty { parts.append(.text(String(rest))) }
        self.parts = parts
    }

    private static func tokens(_ s: String, source: String) throws(Failure) -> [String] {
        var out: [String] = []
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            if c.isWhitespace {
                i = s.index(after: i)
                continue
            }
            if c == "\"" {
                var j = s.index(after: i)
                var lit = ""
                while j < s.endIndex, s[j] != "\"" {
                    if s[j] == "\\", s.index(after: j) < s.endIndex {
                        j = s.index(after: j)
                        lit.append(s[j] == "n" ? "\n" : s[j])
                    } else {
                        lit.append(s[j])
                    }
                    j = s.index(after: j)
                }
                guard j < s.endIndex else { throw Failure(message: "unterminated string in template \"\(source)\"") }
                out.append("\"" + lit)
                i = s.index(after: j)
                continue
            }
            var j = i
            while j < s.endIndex, !s[j].isWhitespace, s[j] != "|" { j = s.index(after: j) }
            if j == i {
                out.append("|")
                i = s.index(after: i)
            } else {
                out.append(String(s[i..<j]))
                i = j
            }
        }
        return out
    }

    private static func operand(_ t: String, source: String) throws(Failure) -> Operand {
        if t.hasPrefix("\"") { return .string(String(t.dropFirst())) }
        if t == "$value" || t == ".Value" { return .value }
        for prefix in ["$labels.", ".Labels."] where t.hasPrefix(prefix) { return .labels(String(t.dropFirst(prefix.count))) }
        for prefix in ["$externalLabels.", ".ExternalLabels."] where t.hasPrefix(prefix) {
            return .externalLabels(String(t.dropFirst(prefix.count)))
        }
        if let n = Double(t) { return .number(n) }
        throw Failure(message: "unsupported template operand \"\(t)\" in \"\(source)\"")
    }

    private static func pipeline(_ action: String, source: String) throws(Failure) -> [Command] {
        let toks = try tokens(action, source: source)
        guard !toks.isEmpty else { throw Failure(message: "empty action in template \"\(source)\"") }
        var commands: [Command] = []
        var current: [String] = []
        func flush() throws(Failure) {
            guard let first = current.first else { throw Failure(message: "empty command in pipeline in \"\(source)\"") }
            if functions.contains(first) {
                var args: [Operand] = []
                for a in current.dropFirst() { args.append(try operand(a, source: source)) }
                commands.append(Command(function: first, arguments: args))
            } else if current.count == 1 {
                guard commands.isEmpty else { throw Failure(message: "\"\(first)\" is not a function in \"\(source)\"") }
                commands.append(Command(function: nil, arguments: [try operand(first, source: source)]))
            } else {
                throw Failure(message: "unsupported template function \"\(first)\" in \"\(source)\"")
            }
            current = []
        }
        for t in toks {
            if t == "|" { try flush() } else { current.append(t) }
        }
        try flush()
        return commands
    }

    enum Value {
        case number(Double), string(String)
        var text: String {
            switch self {
            case .number(let v): return GoFormat.value(v)
            case .string(let s): return s
            }
        }
        var number: Double? {
            switch self {
            case .number(let v): return v
            case .string(let s): return Evaluator.parseFloat(s.trimmingCharacters(in: .whitespaces))
            }
        }
    }

    public func render(_ c: Context) throws(Failure) -> String {
        var out = ""
        for part in parts {
            switch part {
            case .text(let t): out += t
            case .pipeline(let commands):
                var carried: Value?
                for cmd in commands {
                    var args = cmd.arguments.map { op -> Value in
                        switch op {
                        case .value: return .number(c.value)
                        case .labels(let n): return .string(c.labels[n] ?? "")
                        case .externalLabels(let n): return .string(c.externalLabels[n] ?? "")
                        case .string(let s): return .string(s)
                        case .number(let v): return .number(v)
                        }
                    }
                    if let carried { args.append(carried) }
                    guard let f = cmd.function else {
                        carried = args.first
                        continue
                    }
                    carried = .string(try Self.call(f, args, source: source))
                }
                out += carried?.text ?? ""
            }
        }
        return out
    }

    static func call(_ f: String, _ args: [Value], source: String) throws(Failure) -> String {
        if f == "printf" {
            guard case .string(let format)? = args.first else { throw Failure(message: "printf needs a format in \"\(source)\"") }
            return GoPrintf.format(format, Array(args.dropFirst()))
        }
        guard args.count == 1 else { throw Failure(message: "\(f) takes one argument in \"\(source)\"") }
        switch f {
        case "toUpper": return args[0].text.uppercased()
        case "toLower": return args[0].text.lowercased()
        case "title": return args[0].text.capitalized
        default: break
        }
        guard let v = args[0].number else { throw Failure(message: "\(f): cannot parse \"\(args[0].text)\" as a number") }
        switch f {
        case "humanize": return Humanize.humanize(v)
        case "humanize1024": return Humanize.humanize1024(v)
        case "humanizePercentage": return GoFormat.g4(v * 100) + "%"
        default: return Humanize.duration(v)
        }
    }
}

/// Prometheus's humanize functions (template/template.go).
enum Humanize {
    static func humanize(_ v: Double) -> String {
        if v == 0 || v.isNaN || v.isInfinite { return GoFormat.g4(v) }
        var v = v
        var prefix = ""
        if abs(v) >= 1 {
            for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
                if abs(v) < 1000 { break }
                prefix = p
                v /= 1000
            }
            return GoFormat.g4(v) + prefix
        }
        for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if abs(v) >= 1 { break }
            prefix = p
            v *= 1000
        }
        return GoFormat.g4(v) + prefix
    }

    static func humanize1024(_ v: Double) -> String {
        if abs(v) <= 1 || v.isNaN || v.isInfinite { return GoFormat.g4(v) }
        var v = v
        var prefix = ""
        for p in ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"] {
            if abs(v) < 1024 { break }
            prefix = p
            v /= 1024
        }
        return GoFormat.g4(v) + prefix
    }

    static func duration(_ v: Double) -> String {
        if v.isNaN || v.isInfinite { return GoFormat.g4(v) }
        if v == 0 { return GoFormat.g4(v) + "s" }
        if abs(v) >= 1 {
            let sign = v < 0 ? "-" : ""
            let a = abs(v)
            let d = Int64(a)
            let seconds = d % 60
            let minutes = (d / 60) % 60
            let hours = (d / 3600) % 24
            let days = d / 86400
            if days != 0 { return "\(sign)\(days)d \(hours)h \(minutes)m \(seconds)s" }
            if hours != 0 { return "\(sign)\(hours)h \(minutes)m \(seconds)s" }
            if minutes != 0 { return "\(sign)\(minutes)m \(seconds)s" }
            return sign + GoFormat.g4(a) + "s"
        }
        var v = v
        var prefix = ""
        for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if abs(v) >= 1 { break }
            prefix = p
            v *= 1000
        }
        return GoFormat.g4(v) + prefix + "s"
    }
}

/// `printf` with Go's verbs for the common cases (%s %v %d %f %e %g with width and precision, %%).
enum GoPrintf {
    static func format(_ f: String, _ args: [Template.Value]) -> String {
        var out = ""
        var i = f.startIndex
        var argIndex = 0
        while i < f.endIndex {
            let c = f[i]
            guard c == "%" else {
                out.append(c)
                i = f.index(after: i)
                continue
            }
            var j = f.index(after: i)
            var spec = "%"
            while j < f.endIndex, "+-# 0123456789.".contains(f[j]) {
                spec.append(f[j])
                j = f.index(after: j)
            }
            guard j < f.endIndex else {
                out += spec
                break
            }
            let verb = f[j]
            i = f.index(after: j)
            if verb == "%" {
                out += "%"
                continue
            }
            guard argIndex < args.count else {
                out += "%!\(verb)(MISSING)"
                continue
            }
            let a = args[argIndex]
            argIndex += 1
            switch verb {
            case "s", "v", "q":
                let text = a.text
                out += verb == "q" ? "\"\(text)\"" : text
            case "d":
                out += String(format: spec + "lld", Int64(a.number ?? 0))
            case "f", "F", "e", "E", "g", "G":
                out += String(format: spec + String(verb), a.number ?? .nan)
            default:
                out += "%!\(verb)(\(a.text))"
            }
        }
        return out
    }
}
