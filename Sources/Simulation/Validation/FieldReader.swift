/// Reads typed fields out of a JSON object with pydantic's lax coercions (spec 2.3), recording every
/// problem in an `IssueCollector` instead of stopping at the first.
///
/// Each accessor returns `nil` when the field is invalid (the issue is recorded) and the default when it
/// is absent. Unknown keys are ignored, as in the original.
public struct FieldReader {
    public let object: JSONObject
    public let path: [ValidationIssue.PathComponent]
    public let issues: IssueCollector

    public init(_ object: JSONObject, path: [ValidationIssue.PathComponent], issues: IssueCollector) {
        self.object = object
        self.path = path
        self.issues = issues
    }

    public func has(_ key: String) -> Bool { object[key] != nil }

    /// Present and not null.
    public func given(_ key: String) -> Bool {
        if let v = object[key], !v.isNull { return true }
        return false
    }

    func loc(_ key: String) -> [ValidationIssue.PathComponent] { path + [.key(key)] }

    /// Reports `missing` for an absent required field; returns the value otherwise.
    func required(_ key: String) -> JSONValue? {
        guard let v = object[key] else {
            issues.add("missing", loc(key), "Field required", input: .object(object))
            return nil
        }
        return v
    }

    // MARK: numbers

    public struct Bounds: Sendable {
        public var gt: Double?
        public var ge: Double?
        public var lt: Double?
        public var le: Double?
        public init(gt: Double? = nil, ge: Double? = nil, lt: Double? = nil, le: Double? = nil) {
            self.gt = gt
            self.ge = ge
            self.lt = lt
            self.le = le
        }
        public static let none = Bounds()
        public static let positive = Bounds(gt: 0)
        public static let nonNegative = Bounds(ge: 0)
        public static let fraction = Bounds(ge: 0, le: 1)
        public static func range(_ lo: Double, _ hi: Double) -> Bounds { Bounds(ge: lo, le: hi) }
    }

    /// Checks bounds on an already-coerced number; records the first violated bound.
    @discardableResult
    public static func check(
        _ x: Double, _ b: Bounds, loc: [ValidationIssue.PathComponent], input: JSONValue, issues: IssueCollector
    ) -> Bool {
        func fail(_ type: String, _ words: String, _ key: String, _ bound: Double) -> Bool {
            let ctxValue: JSONValue =
                bound == bound.rounded() && abs(bound) < 1e15 ? .int(Int64(bound)) : .double(bound)
            issues.add(
                type, loc, "Input should be \(words) \(PythonFormat.bound(bound))", input: input,
                ctx: [key: ctxValue])
            return false
        }
        if let gt = b.gt, !(x > gt) { return fail("greater_than", "greater than", "gt", gt) }
        if let ge = b.ge, !(x >= ge) { return fail("greater_than_equal", "greater than or equal to", "ge", ge) }
        if let lt = b.lt, !(x < lt) { return fail("less_than", "less than", "lt", lt) }
        if let le = b.le, !(x <= le) { return fail("less_than_equal", "less than or equal to", "le", le) }
        return true
    }

    /// Lax integer coercion of one value.
    public static func coerceInt(
        _ v: JSONValue, loc: [ValidationIssue.PathComponent], issues: IssueCollector
    ) -> Int? {
        switch v {
        case .int(let i):
            guard let n = Int(exactly: i) else { break }
            return n
        case .bool(let b): return b ? 1 : 0
        case .double(let d):
            if !d.isFinite {
                issues.add("finite_number", loc, "Input should be a finite number", input: v)
                return nil
            }
            if d != d.rounded(.towardZero) {
                issues.add(
                    "int_from_float", loc, "Input should be a valid integer, got a number with a fractional part",
                    input: v)
                return nil
            }
            if abs(d) < 9.0e18 { return Int(d) }
            issues.add("int_parsing_size", loc, "Unable to parse input string as an integer, exceeded maximum size", input: v)
            return nil
        case .string(let s):
            let t = s.trimmingWhitespace()
            if let n = Int(t) { return n }
            if let d = Double(t), d.isFinite, d == d.rounded(.towardZero), abs(d) < 9.0e18,
                t.contains(".") && !t.lowercased().contains("e")
            {
                return Int(d)
            }
            issues.add(
                "int_parsing", loc, "Input should be a valid integer, unable to parse string as an integer", input: v)
            return nil
        default:
            break
        }
        issues.add("int_type", loc, "Input should be a valid integer", input: v)
        return nil
    }

    /// Lax float coercion of one value. Non-finite numbers are rejected: no simulation input can use them.
    public static func coerceDouble(
        _ v: JSONValue, loc: [ValidationIssue.PathComponent], issues: IssueCollector
    ) -> Double? {
        var d: Double
        switch v {
        case .int(let i): d = Double(i)
        case .double(let x): d = x
        case .bool(let b): d = b ? 1 : 0
        case .string(let s):
            guard let x = Double(s.trimmingWhitespace()) else {
                issues.add(
                    "float_parsing", loc, "Input should be a valid number, unable to parse string as a number",
                    input: v)
                return nil
            }
            d = x
        default:
            issues.add("float_type", loc, "Input should be a valid number", input: v)
            return nil
        }
        if !d.isFinite {
            issues.add("finite_number", loc, "Input should be a finite number", input: v)
            return nil
        }
        return d
    }

    public static func coerceBool(
        _ v: JSONValue, loc: [ValidationIssue.PathComponent], issues: IssueCollector
    ) -> Bool? {
        switch v {
        case .bool(let b): return b
        case .int(let i) where i == 0 || i == 1: return i == 1
        case .double(let d) where d == 0 || d == 1: return d == 1
        case .string(let s):
            switch s.lowercased() {
            case "1", "on", "t", "true", "y", "yes": return true
            case "0", "off", "f", "false", "n", "no": return false
            default: break
            }
            issues.add(
                "bool_parsing", loc, "Input should be a valid boolean, unable to interpret input", input: v)
            return nil
        case .int, .double:
            issues.add(
                "bool_parsing", loc, "Input should be a valid boolean, unable to interpret input", input: v)
            return nil
        default:
            issues.add("bool_type", loc, "Input should be a valid boolean", input: v)
            return nil
        }
    }

    // MARK: typed accessors

    /// A required integer.
    public func int(_ key: String, _ bounds: Bounds = .none) -> Int? {
        guard let v = required(key) else { return nil }
        return intValue(v, key, bounds)
    }

    /// An optional integer with a default (null is an error unless `nullable`).
    public func int(_ key: String, default def: Int, _ bounds: Bounds = .none) -> Int? {
        guard let v = object[key] else { return def }
        return intValue(v, key, bounds)
    }

    /// An optional, nullable integer: `.some(nil)` when absent or null, `nil` when invalid.
    public func nullableInt(_ key: String, _ bounds: Bounds = .none) -> Int?? {
        guard let v = object[key], !v.isNull else { return .some(nil) }
        guard let n = intValue(v, key, bounds) else { return nil }
        return .some(n)
    }

    private func intValue(_ v: JSONValue, _ key: String, _ bounds: Bounds) -> Int? {
        guard let n = FieldReader.coerceInt(v, loc: loc(key), issues: issues) else { return nil }
        guard FieldReader.check(Double(n), bounds, loc: loc(key), input: v, issues: issues) else { return nil }
        return n
    }

    public func double(_ key: String, _ bounds: Bounds = .none) -> Double? {
        guard let v = required(key) else { return nil }
        return doubleValue(v, key, bounds)
    }

    public func double(_ key: String, default def: Double, _ bounds: Bounds = .none) -> Double? {
        guard let v = object[key] else { return def }
        return doubleValue(v, key, bounds)
    }

    public func nullableDouble(_ key: String, _ bounds: Bounds = .none) -> Double?? {
        guard let v = object[key], !v.isNull else { return .some(nil) }
        guard let d = doubleValue(v, key, bounds) else { return nil }
        return .some(d)
    }

    private func doubleValue(_ v: JSONValue, _ key: String, _ bounds: Bounds) -> Double? {
        guard let d = FieldReader.coerceDouble(v, loc: loc(key), issues: issues) else { return nil }
        guard FieldReader.check(d, bounds, loc: loc(key), input: v, issues: issues) else { return nil }
        return d
    }

    public func bool(_ key: String, default def: Bool) -> Bool? {
        guard let v = object[key] else { return def }
        return FieldReader.coerceBool(v, loc: loc(key), issues: issues)
    }

    public func string(_ key: String, minLength: Int = 0, maxLength: Int? = nil) -> String? {
        guard let v = required(key) else { return nil }
        return stringValue(v, key, minLength: minLength, maxLength: maxLength)
    }

    public func string(_ key: String, default def: String) -> String? {
        guard let v = object[key] else { return def }
        return stringValue(v, key, minLength: 0, maxLength: nil)
    }

    /// `.some(nil)` when absent or null.
    public func nullableString(_ key: String) -> String?? {
        guard let v = object[key], !v.isNull else { return .some(nil) }
        guard let s = stringValue(v, key, minLength: 0, maxLength: nil) else { return nil }
        return .some(s)
    }

    func stringValue(_ v: JSONValue, _ key: String, minLength: Int, maxLength: Int?) -> String? {
        guard case .string(let s) = v else {
            issues.add("string_type", loc(key), "Input should be a valid string", input: v)
            return nil
        }
        let n = s.count
        if n < minLength {
            let unit = minLength == 1 ? "character" : "characters"
            issues.add(
                "string_too_short", loc(key), "String should have at least \(minLength) \(unit)", input: v,
                ctx: ["min_length": .int(Int64(minLength))])
            return nil
        }
        if let maxLength, n > maxLength {
            let unit = maxLength == 1 ? "character" : "characters"
            issues.add(
                "string_too_long", loc(key), "String should have at most \(maxLength) \(unit)", input: v,
                ctx: ["max_length": .int(Int64(maxLength))])
            return nil
        }
        return s
    }

    /// A string that must be one of `options` (pydantic `enum`/`literal_error`).
    public func choice<E: RawRepresentable>(_ key: String, default def: E, type: String = "enum") -> E?
    where E.RawValue == String, E: CaseIterable {
        guard let v = object[key] else { return def }
        return choiceValue(v, key, type: type)
    }

    public func choice<E: RawRepresentable>(_ key: String, type: String = "enum") -> E?
    where E.RawValue == String, E: CaseIterable {
        guard let v = required(key) else { return nil }
        return choiceValue(v, key, type: type)
    }

    func choiceValue<E: RawRepresentable>(_ v: JSONValue, _ key: String, type: String) -> E?
    where E.RawValue == String, E: CaseIterable {
        if case .string(let s) = v, let e = E(rawValue: s) { return e }
        let expected = PythonFormat.choices(E.allCases.map(\.rawValue))
        issues.add(type, loc(key), "Input should be \(expected)", input: v, ctx: ["expected": .string(expected)])
        return nil
    }

    /// A nested object; `nil` (with an issue) when it is not an object.
    public func object(_ key: String, required isRequired: Bool = true) -> FieldReader? {
        guard let v = object[key] else {
            if isRequired { issues.add("missing", loc(key), "Field required", input: .object(object)) }
            return nil
        }
        return objectValue(v, key)
    }

    func objectValue(_ v: JSONValue, _ key: String) -> FieldReader? {
        guard case .object(let o) = v else {
            issues.add(
                "model_type", loc(key), "Input should be a valid dictionary or instance of \(key)", input: v)
            return nil
        }
        return FieldReader(o, path: loc(key), issues: issues)
    }

    /// A nullable nested object: `.some(nil)` when absent or null.
    public func nullableObject(_ key: String) -> FieldReader?? {
        guard let v = object[key], !v.isNull else { return .some(nil) }
        guard let r = objectValue(v, key) else { return nil }
        return .some(r)
    }

    /// A list; `nil` (with an issue) when it is not a list.
    public func list(_ key: String, required isRequired: Bool = true) -> [JSONValue]? {
        guard let v = object[key] else {
            if isRequired { issues.add("missing", loc(key), "Field required", input: .object(object)) }
            return nil
        }
        guard case .array(let a) = v else {
            issues.add("list_type", loc(key), "Input should be a valid list", input: v)
            return nil
        }
        return a
    }

    /// A map of string keys to values; `.some(nil)` when absent or null.
    public func nullableDict(_ key: String) -> JSONObject?? {
        guard let v = object[key], !v.isNull else { return .some(nil) }
        guard case .object(let o) = v else {
            issues.add("dict_type", loc(key), "Input should be a valid dictionary", input: v)
            return nil
        }
        return .some(o)
    }

    public func valueError(_ key: String?, _ message: String, input: JSONValue? = nil) {
        let l = key.map { loc($0) } ?? path
        issues.add("value_error", l, "Value error, \(message)", input: input ?? .object(object), ctx: ["error": [:]])
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
