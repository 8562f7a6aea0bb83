/// Tokens of the PromQL subset. Positions are byte offsets into the expression (0-based).
struct Token: Equatable {
    enum Kind: Equatable {
        case number(Double)
        case duration(Int64)  // milliseconds
        case identifier(String)
        case string(String)
        case op(String)  // + - * / % ^ == != > < >= <= = =~ !~
        case leftParen, rightParen, leftBrace, rightBrace, leftBracket, rightBracket, comma, at, colon
        case end
    }
    var kind: Kind
    var position: Int
}

/// A parse or type error, with its position in the expression.
public struct PromQLError: Error, Sendable, Equatable, CustomStringConvertible {
    public var position: Int
    public var message: String
    public init(_ message: String, at position: Int) {
        self.message = message
        self.position = position
    }
    public var description: String { "parse error at char \(position + 1): \(message)" }
}

struct Lexer {
    private let bytes: [UInt8]
    private var i = 0

    init(_ text: String) { bytes = Array(text.utf8) }

    static func tokens(_ text: String) throws(PromQLError) -> [Token] {
        var l = Lexer(text)
        var out: [Token] = []
        while true {
            let t = try l.next()
            out.append(t)
            if t.kind == .end { return out }
        }
    }

    private func peek(_ k: Int = 0) -> UInt8? { i + k < bytes.count ? bytes[i + k] : nil }

    private static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
    private static func isAlpha(_ c: UInt8) -> Bool { (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 }
    private static func isIdent(_ c: UInt8) -> Bool { isAlpha(c) || isDigit(c) || c == 58 }

    mutating func next() throws(PromQLError) -> Token {
        while let c = peek(), c == 32 || c == 9 || c == 10 || c == 13 { i += 1 }
        // Comments run to the end of the line.
        if peek() == UInt8(ascii: "#") {
            while let c = peek(), c != 10 { i += 1 }
            return try next()
        }
        let start = i
        guard let c = peek() else { return Token(kind: .end, position: i) }
        func tok(_ k: Token.Kind, _ n: Int) -> Token {
            i += n
            return Token(kind: k, position: start)
        }
        switch c {
        case UInt8(ascii: "("): return tok(.leftParen, 1)
        case UInt8(ascii: ")"): return tok(.rightParen, 1)
        case UInt8(ascii: "{"): return tok(.leftBrace, 1)
        case UInt8(ascii: "}"): return tok(.rightBrace, 1)
        case UInt8(ascii: "["): return tok(.leftBracket, 1)
        case UInt8(ascii: "]"): return tok(.rightBracket, 1)
        case UInt8(ascii: ","): return tok(.comma, 1)
        case UInt8(ascii: "@"): return tok(.at, 1)
        case UInt8(ascii: ":"): return tok(.colon, 1)
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "*"), UInt8(ascii: "/"), UInt8(ascii: "%"), UInt8(ascii: "^"):
            return tok(.op(String(UnicodeScalar(c))), 1)
        case UInt8(ascii: "="):
            if peek(1) == UInt8(ascii: "=") { return tok(.op("=="), 2) }
            if peek(1) == UInt8(ascii: "~") { return tok(.op("=~"), 2) }
            return tok(.op("="), 1)
        case UInt8(ascii: "!"):
            if peek(1) == UInt8(ascii: "=") { return tok(.op("!="), 2) }
            if peek(1) == UInt8(ascii: "~") { return tok(.op("!~"), 2) }
            throw PromQLError("unexpected character after '!'", at: start)
        case UInt8(ascii: ">"):
            return peek(1) == UInt8(ascii: "=") ? tok(.op(">="), 2) : tok(.op(">"), 1)
        case UInt8(ascii: "<"):
            return peek(1) == UInt8(ascii: "=") ? tok(.op("<="), 2) : tok(.op("<"), 1)
        case UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "`"):
            return Token(kind: .string(try string(quote: c)), position: start)
        default: break
        }
        if Self.isDigit(c) || (c == UInt8(ascii: ".") && peek(1).map(Self.isDigit) == true) {
            return try numberOrDuration(start)
        }
        if Self.isAlpha(c) {
            while let d = peek(), Self.isIdent(d) { i += 1 }
            let word = String(decoding: bytes[start..<i], as: UTF8.self)
            switch word.lowercased() {
            case "inf": return Token(kind: .number(.infinity), position: start)
            case "nan": return Token(kind: .number(.nan), position: start)
            default: return Token(kind: .identifier(word), position: start)
            }
        }
        throw PromQLError("unexpected character '\(String(UnicodeScalar(c)))'", at: start)
    }

    private mutating func string(quote: UInt8) throws(PromQLError) -> String {
        let start = i
        i += 1
        var out: [UInt8] = []
        while let c = peek() {
            i += 1
            if c == quote { return String(decoding: out, as: UTF8.self) }
            if c == UInt8(ascii: "\\") && quote != UInt8(ascii: "`") {
                guard let e = peek() else { break }
                i += 1
                switch e {
                case UInt8(ascii: "n"): out.append(10)
                case UInt8(ascii: "t"): out.append(9)
                case UInt8(ascii: "r"): out.append(13)
                case UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "`"): out.append(e)
                default: throw PromQLError("unknown escape sequence '\\\(String(UnicodeScalar(e)))'", at: i - 2)
                }
                continue
            }
            out.append(c)
        }
        throw PromQLError("unterminated quoted string", at: start)
    }

    /// A number (`1`, `.5`, `1e-3`, `0x1f`) or a duration (`5m`, `1h30m`, `250ms`).
    private mutating func numberOrDuration(_ start: Int) throws(PromQLError) -> Token {
        if peek() == UInt8(ascii: "0"), let x = peek(1), x == UInt8(ascii: "x") || x == UInt8(ascii: "X") {
            i += 2
            let hs = i
            while let d = peek(), Self.isDigit(d) || (d | 0x20 >= 97 && d | 0x20 <= 102) { i += 1 }
            guard i > hs, let v = UInt64(String(decoding: bytes[hs..<i], as: UTF8.self), radix: 16) else {
                throw PromQLError("bad hexadecimal number", at: start)
            }
            return Token(kind: .number(Double(v)), position: start)
        }
        // A duration is digits followed by a unit letter; try that first.
        if let d = duration() { return Token(kind: .duration(d), position: start) }
        i = start
        while let d = peek(), Self.isDigit(d) { i += 1 }
        if peek() == UInt8(ascii: ".") {
            i += 1
            while let d = peek(), Self.isDigit(d) { i += 1 }
        }
        if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            var j = i + 1
            if j < bytes.count, bytes[j] == UInt8(ascii: "+") || bytes[j] == UInt8(ascii: "-") { j += 1 }
            if j < bytes.count, Self.isDigit(bytes[j]) {
                i = j
                while let d = peek(), Self.isDigit(d) { i += 1 }
            }
        }
        if let d = peek(), Self.isAlpha(d) { throw PromQLError("bad number or duration syntax", at: start) }
        guard let v = Double(String(decoding: bytes[start..<i], as: UTF8.self)) else {
            throw PromQLError("bad number", at: start)
        }
        return Token(kind: .number(v), position: start)
    }

    private mutating func duration() -> Int64? {
        let start = i
        var total: Int64 = 0
        var any = false
        let units: [(String, Int64)] = [("ms", 1), ("y", 365 * 86_400_000), ("w", 7 * 86_400_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)]
        while let c = peek(), Self.isDigit(c) {
            let ds = i
            while let d = peek(), Self.isDigit(d) { i += 1 }
            guard let n = Int64(String(decoding: bytes[ds..<i], as: UTF8.self)) else { i = start; return nil }
            var matched = false
            for (u, ms) in units {
                let ub = Array(u.utf8)
                if i + ub.count <= bytes.count, Array(bytes[i..<(i + ub.count)]) == ub {
                    // "m" must not swallow the "s" of "ms".
                    let after = i + ub.count < bytes.count ? bytes[i + ub.count] : 0
                    if u == "m", after == UInt8(ascii: "s") { continue }
                    i += ub.count
                    total += n * ms
                    matched = true
                    break
                }
            }
            guard matched else { i = start; return nil }
            any = true
        }
        if let d = peek(), Self.isAlpha(d) || Self.isDigit(d) { i = start; return nil }
        return any ? total : nil
    }
}
