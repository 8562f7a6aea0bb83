/// Number formatting that reproduces the original's messages (Python's `str()` and format specs).
public enum PythonFormat {
    /// `str(float)`: `110.0`, `0.1`, `1e-05`.
    public static func float(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        return d.description
    }

    /// A JSON number as Python would print it: integers without a decimal point.
    public static func number(_ v: JSONValue) -> String {
        switch v {
        case .int(let i): return String(i)
        case .double(let d): return float(d)
        default: return "\(v)"
        }
    }

    /// A bound in a pydantic message: integral bounds print without a fraction.
    public static func bound(_ d: Double) -> String {
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return float(d)
    }

    /// `format(x, ".2f")`.
    public static func fixed(_ d: Double, _ places: Int) -> String {
        guard d.isFinite else { return float(d) }
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let negative = d < 0
        let scaled = (abs(d) * scale).rounded(.toNearestOrEven)
        if scaled >= 9.0e18 { return float(d) }
        let whole = UInt64(scaled)
        let intPart = whole / UInt64(scale)
        let frac = whole % UInt64(scale)
        var s = String(intPart)
        if places > 0 {
            var f = String(frac)
            while f.count < places { f = "0" + f }
            s += "." + f
        }
        return (negative && scaled != 0 ? "-" : "") + s
    }

    /// `format(x, ",.0f")`: thousands separators, no decimals.
    public static func grouped(_ d: Double) -> String {
        let plain = fixed(d, 0)
        let negative = plain.hasPrefix("-")
        let digits = Array(negative ? plain.dropFirst() : Substring(plain))
        var out: [Character] = []
        for (n, c) in digits.enumerated() {
            if n > 0 && (digits.count - n) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (negative ? "-" : "") + String(out)
    }

    /// `'a', 'b' or 'c'`, the way pydantic lists the allowed values of an enum.
    public static func choices(_ options: [String]) -> String {
        let quoted = options.map { "'\($0)'" }
        if quoted.count <= 1 { return quoted.joined() }
        return quoted.dropLast().joined(separator: ", ") + " or " + quoted.last!
    }
}
