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
        o["input"] = input ?? .null
        if let ctx { o["ctx"] = ctx }
        return .object(o)
    }
}

/// Every problem found in one request, in the order they were found.
public struct ValidationFailure: Error, Sendable, Equatable {
    public var issues: [ValidationIssue]
    public init(_ issues: [ValidationIssue]) { self.issues = issues }

    /// The 422 body: `{"detail":[...]}`.
    public var json: JSONValue { ["detail": .array(issues.map { $0.json() })] }

    public var summary: String {
        issues.map { "\($0.fieldPath): \($0.msg)" }.joined(separator: "\n")
    }
}

/// Collects issues while a request is decoded, so that every problem is reported at once.
public final class IssueCollector {
    public private(set) var issues: [ValidationIssue] = []
    public init() {}

    public func add(_ issue: ValidationIssue) { issues.append(issue) }

    public func add(
        _ type: String, _ loc: [ValidationIssue.PathComponent], _ msg: String, input: JSONValue? = nil,
        ctx: JSONValue? = nil
    ) {
        issues.append(ValidationIssue(type: type, loc: loc, msg: msg, input: input, ctx: ctx))
    }

    public var isEmpty: Bool { issues.isEmpty }
    public var count: Int { issues.count }
}
