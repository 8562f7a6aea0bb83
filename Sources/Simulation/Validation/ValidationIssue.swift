/// One problem with a request, in the shape of the original's 422 entries (spec 2.2).
public struct ValidationIssue: Sendable, Equatable, Error {
    public enum PathComponent: Sendable, Equatable, CustomStringConvertible {
        case key(String)
        case index(Int)

        public var description: String {
            switch self {
            case .key(let k): return k
            case .index(let i): return String(i)
            }
        }

        var json: JSONValue {
            switch self {
            case .key(let k): return .string(k)
            case .index(let i): return .int(Int64(i))
            }
        }
    }

    public var type: String
    /// Location inside the request body (the API prefixes `"body"`).
    public var loc: [PathComponent]
    public var msg: String
    public var input: JSONValue?
    public var ctx: JSONValue?

    public init(type: String, loc: [PathComponent], msg: String, input: JSONValue? = nil, ctx: JSONValue? = nil) {
        self.type = type
        self.loc = loc
        self.msg = msg
        self.input = input
        self.ctx = ctx
    }

    /// `token.total_supply`, `buckets[2].allocation`; the whole body is `body`.
    public var fieldPath: String {
        var s = ""
        for c in loc {
            switch c {
            case .key(let k): s += s.isEmpty ? k : ".\(k)"
            case .index(let i): s += "[\(i)]"
            }
        }
        return s.isEmpty ? "body" : s
    }

    public func json(locPrefix: [String] = ["body"]) -> JSONValue {
        var o = JSONObject()
        o["type"] = .string(type)
        o["loc"] = .array(locPrefix.map { .string($0) } + loc.map(\.json))
        o["msg"] = .string(msg)
        // The input is echoed as the original did, but bounded: a 10 MB list is not sent back.
        o["input"] = (input ?? .null).truncatedForEcho()
        if let ctx { o["ctx"] = ctx }
        return .object(o)
    }
}

/// Every problem found in one request, in the order they were found.
public struct ValidationFailure: Error, Sendable, Equatable {
    public var issues: [ValidationIssue]
    /// Problems found beyond the first `IssueCollector.limit`, counted but not listed.
    public var omitted: Int
    public init(_ issues: [ValidationIssue], omitted: Int = 0) {
        self.issues = issues
        self.omitted = omitted
    }

    /// The 422 body: `{"detail":[...]}`; past the listed problems, one entry says how many more there are.
    public var json: JSONValue {
        var entries = issues.map { $0.json() }
        if omitted > 0 {
            entries.append(
                ValidationIssue(
                    type: "too_many_errors", loc: [],
                    msg: "\(omitted) more problems not listed (at most \(IssueCollector.limit) are); fix these and submit again",
                    input: .null, ctx: ["omitted": .int(Int64(omitted))]
                ).json())
        }
        return ["detail": .array(entries)]
    }

    public var summary: String {
        issues.map { "\($0.fieldPath): \($0.msg)" }.joined(separator: "\n")
    }
}

/// Collects issues while a request is decoded, so that every problem is reported at once.
/// At most `limit` are kept (a request of a million bad items answers a bounded list, in bounded memory);
/// the rest are counted.
public final class IssueCollector {
    public static let limit = 100
    public private(set) var issues: [ValidationIssue] = []
    public private(set) var omitted = 0
    public init() {}

    public func add(_ issue: ValidationIssue) {
        if issues.count < Self.limit { issues.append(issue) } else { omitted += 1 }
    }

    public func add(
        _ type: String, _ loc: [ValidationIssue.PathComponent], _ msg: String, input: JSONValue? = nil,
        ctx: JSONValue? = nil
    ) {
        add(ValidationIssue(type: type, loc: loc, msg: msg, input: input, ctx: ctx))
    }

    public var isEmpty: Bool { issues.isEmpty }
    /// Every problem found, listed or not.
    public var count: Int { issues.count + omitted }
    public var failure: ValidationFailure { ValidationFailure(issues, omitted: omitted) }
}

extension JSONValue {
    /// A bounded copy for echoing back: strings past 200 characters, lists past 10 items, objects past 20 keys
    /// and nesting past 4 levels are cut, with a marker saying so.
    public func truncatedForEcho(depth: Int = 0) -> JSONValue {
        switch self {
        case .string(let s) where s.count > 200:
            return .string(String(s.prefix(200)) + "... (\(s.count) characters)")
        case .array(let a):
            if depth >= 4 { return .string("[\(a.count) items]") }
            var out = a.prefix(10).map { $0.truncatedForEcho(depth: depth + 1) }
            if a.count > 10 { out.append(.string("... (\(a.count) items)")) }
            return .array(out)
        case .object(let o):
            if depth >= 4 { return .string("{\(o.entries.count) keys}") }
            var out = JSONObject()
            for (k, v) in o.entries.prefix(20) { out[k] = v.truncatedForEcho(depth: depth + 1) }
            if o.entries.count > 20 { out["..."] = .string("\(o.entries.count) keys") }
            return .object(out)
        default:
            return self
        }
    }
}
