import Foundation

/// Go's number formatting where Prometheus's output depends on it: `%v` of a float64 (templates), `%.4g`
/// (the humanize functions) and `strconv.FormatFloat(v, 'e', -1, 64)` (the API's alert values).
enum GoFormat {
    /// Shortest round-trip digits of |v| and the decimal exponent of the first digit.
    private static func shortest(_ v: Double) -> (digits: [Character], exponent: Int) {
        let d = abs(v).description  // Swift prints the shortest round-trip form
        let parts = d.split(separator: "e")
        var mantissa = String(parts[0])
        var exp = parts.count > 1 ? Int(parts[1])! : 0
        if let dot = mantissa.firstIndex(of: ".") {
            let intPart = mantissa[..<dot]
            exp += intPart.count - 1
            mantissa.remove(at: dot)
        } else {
            exp += mantissa.count - 1
        }
        var digits = Array(mantissa)
        while digits.count > 1 && digits.first == "0" {
            digits.removeFirst()
            exp -= 1
        }
        while digits.count > 1 && digits.last == "0" { digits.removeLast() }
        return (digits, exp)
    }

    private static func special(_ v: Double) -> String? {
        if v.isNaN { return "NaN" }
        if v == .infinity { return "+Inf" }
        if v == -.infinity { return "-Inf" }
        return nil
    }

    private static func exponent(_ e: Int) -> String { (e < 0 ? "-" : "+") + (abs(e) < 10 ? "0" : "") + String(abs(e)) }

    /// `fmt.Sprintf("%v", v)` for a float64.
    static func value(_ v: Double) -> String {
        if let s = special(v) { return s }
        if v == 0 { return v.sign == .minus ? "-0" : "0" }
        let (digits, exp) = shortest(v)
        let sign = v < 0 ? "-" : ""
        if exp < -4 || exp >= 6 {
            let rest = digits.count > 1 ? "." + String(digits.dropFirst()) : ""
            return sign + String(digits[0]) + rest + "e" + exponent(exp)
        }
        if exp < 0 { return sign + "0." + String(repeating: "0", count: -exp - 1) + String(digits) }
        if digits.count <= exp + 1 { return sign + String(digits) + String(repeating: "0", count: exp + 1 - digits.count) }
        return sign + String(digits[0...exp]) + "." + String(digits[(exp + 1)...])
    }

    /// `strconv.FormatFloat(v, 'e', -1, 64)`.
    static func exponential(_ v: Double) -> String {
        if let s = special(v) { return s }
        if v == 0 { return "0e+00" }
        let (digits, exp) = shortest(v)
        let rest = digits.count > 1 ? "." + String(digits.dropFirst()) : ""
        return (v < 0 ? "-" : "") + String(digits[0]) + rest + "e" + exponent(exp)
    }

    /// `fmt.Sprintf("%.4g", v)` (C's %g agrees with Go's for finite values).
    static func g4(_ v: Double) -> String {
        if let s = special(v) { return s }
        return String(format: "%.4g", v)
    }
}
