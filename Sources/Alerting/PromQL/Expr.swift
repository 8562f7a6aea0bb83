import Foundation
import Synchronization

/// The type of a PromQL expression's value.
public enum ValueType: String, Sendable {
    case scalar, vector = "instant vector", matrix = "range vector", string
}

/// One label matcher of a selector. Regular expressions are anchored at both ends, as in Prometheus.
public struct LabelMatcher: Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable { case equal = "=", notEqual = "!=", regex = "=~", notRegex = "!~" }
    public let name: String
    public let kind: Kind
    public let value: String
    private let regex: RegexBox?

    public init(_ name: String, _ kind: Kind, _ value: String) throws(PromQLError) {
        self.name = name
        self.kind = kind
        self.value = value
        if kind == .regex || kind == .notRegex {
            do { regex = RegexBox(try NSRegularExpression(pattern: "^(?:\(value))$", options: [.dotMatchesLineSeparators])) } catch {
                throw PromQLError("invalid regular expression \"\(value)\"", at: 0)
            }
        } else {
            regex = nil
        }
    }

    /// Whether the label's value (empty when the label is missing) matches.
    public func matches(_ v: String) -> Bool {
        switch kind {
        case .equal: return v == value
        case .notEqual: return v != value
        case .regex: return regex!.matches(v)
        case .notRegex: return !regex!.matches(v)
        }
    }

    public var description: String { "\(name)\(kind.rawValue)\"\(Labels.escape(value))\"" }
}

/// A compiled matcher regex with a memo of its answers: label values repeat across series and evaluations,
/// and NSRegularExpression costs microseconds per call.
final class RegexBox: @unchecked Sendable {  // NSRegularExpression is immutable and thread-safe; the memo is locked
    let re: NSRegularExpression
    private let memo = Mutex<[String: Bool]>([:])
    init(_ re: NSRegularExpression) { self.re = re }
    func matches(_ s: String) -> Bool {
        if let known = memo.withLock({ $0[s] }) { return known }
        let answer = re.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
        memo.withLock { m in
            if m.count >= 4096 { m.removeAll(keepingCapacity: true) }
            m[s] = answer
        }
        return answer
    }
}

public struct VectorSelector: Sendable {
    public var name: String?
    public var matchers: [LabelMatcher]  // includes the name matcher
    public var offset: Int64  // milliseconds
}

public enum Function: String, Sendable, CaseIterable {
    case rate, irate, increase, delta
    case avgOverTime = "avg_over_time", minOverTime = "min_over_time", maxOverTime = "max_over_time"
    case sumOverTime = "sum_over_time", countOverTime = "count_over_time"
    case histogramQuantile = "histogram_quantile", absent
    case clampMin = "clamp_min", clampMax = "clamp_max"
    case time, vector, scalar

    var arguments: [ValueType] {
        switch self {
        case .rate, .irate, .increase, .delta, .avgOverTime, .minOverTime, .maxOverTime, .sumOverTime, .countOverTime:
            return [.matrix]
        case .histogramQuantile: return [.scalar, .vector]
        case .absent: return [.vector]
        case .clampMin, .clampMax: return [.vector, .scalar]
        case .time: return []
        case .vector: return [.scalar]
        case .scalar: return [.vector]
        }
    }

    var returns: ValueType {
        switch self {
        case .time, .scalar: return .scalar
        default: return .vector
        }
    }
}

public enum AggregateOp: String, Sendable { case sum, avg, min, max, count }

public enum BinaryOp: String, Sendable {
    case add = "+", sub = "-", mul = "*", div = "/", mod = "%", pow = "^"
    case eq = "==", ne = "!=", gt = ">", lt = "<", ge = ">=", le = "<="
    case and, or, unless

    var precedence: Int {
        switch self {
        case .or: return 1
        case .and, .unless: return 2
        case .eq, .ne, .gt, .lt, .ge, .le: return 3
        case .add, .sub: return 4
        case .mul, .div, .mod: return 5
        case .pow: return 6
        }
    }
    var isComparison: Bool { precedence == 3 }
    var isSet: Bool { self == .and || self == .or || self == .unless }
}

public struct VectorMatching: Sendable {
    public var on: Bool = false
    public var labels: [String] = []
    public var explicit: Bool = false
}

public indirect enum Expr: Sendable {
    case number(Double)
    case string(String)
    case selector(VectorSelector)
    case matrix(VectorSelector, range: Int64)
    case call(Function, [Expr])
    case aggregate(AggregateOp, Expr, grouping: [String], without: Bool)
    case binary(BinaryOp, Expr, Expr, returnBool: Bool, matching: VectorMatching)
    case negate(Expr)
    case paren(Expr)

    public var type: ValueType {
        switch self {
        case .number: return .scalar
        case .string: return .string
        case .selector: return .vector
        case .matrix: return .matrix
        case .call(let f, _): return f.returns
        case .aggregate: return .vector
        case .binary(_, let l, let r, _, _): return l.type == .scalar && r.type == .scalar ? .scalar : .vector
        case .negate(let e), .paren(let e): return e.type
        }
    }

    /// Every selector in the expression with the range it reads (0 for instant selectors).
    public var selectors: [(VectorSelector, Int64)] {
        switch self {
        case .number, .string: return []
        case .selector(let s): return [(s, 0)]
        case .matrix(let s, let r): return [(s, r)]
        case .call(_, let args): return args.flatMap(\.selectors)
        case .aggregate(_, let e, _, _), .negate(let e), .paren(let e): return e.selectors
        case .binary(_, let l, let r, _, _): return l.selectors + r.selectors
        }
    }
}
