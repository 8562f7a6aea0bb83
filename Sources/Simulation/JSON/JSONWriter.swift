/// Serialises `JSONValue` compactly, the way the original's responses look on the wire.
///
/// Floats are written in shortest round-trip form and always carry a decimal point or an exponent
/// (`1.0`, `0.1025`, `1e-05`); integers stay integers (spec 2.1). Non-finite numbers, which no
/// response should contain, are written as `null` so the output is always valid JSON.
public enum JSONWriter {
    public static func string(_ value: JSONValue, pretty: Bool = false) -> String {
        String(decoding: bytes(value, pretty: pretty), as: UTF8.self)
    }

    public static func bytes(_ value: JSONValue, pretty: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(value, into: &out, indent: pretty ? 0 : nil)
        return out
    }

    public static func write(_ value: JSONValue, into out: inout [UInt8], indent: Int? = nil) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .double(let d): writeDouble(d, into: &out)
        case .string(let s): writeString(s, into: &out)
        case .array(let items):
            if items.isEmpty {
                out.append(contentsOf: "[]".utf8)
                return
            }
            out.append(UInt8(ascii: "["))
            for (n, item) in items.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                newline(indent.map { $0 + 2 }, &out)
                write(item, into: &out, indent: indent.map { $0 + 2 })
            }
            newline(indent, &out)
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            if o.isEmpty {
                out.append(contentsOf: "{}".utf8)
                return
            }
            out.append(UInt8(ascii: "{"))
            for (n, entry) in o.entries.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                newline(indent.map { $0 + 2 }, &out)
                writeString(entry.key, into: &out)
                out.append(UInt8(ascii: ":"))
                if indent != nil { out.append(UInt8(ascii: " ")) }
                write(entry.value, into: &out, indent: indent.map { $0 + 2 })
            }
            newline(indent, &out)
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func newline(_ indent: Int?, _ out: inout [UInt8]) {
        guard let indent else { return }
        out.append(UInt8(ascii: "\n"))
        out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent))
    }

    public static func writeDouble(_ d: Double, into out: inout [UInt8]) {
        guard d.isFinite else {
            out.append(contentsOf: "null".utf8)
            return
        }
        // Swift's description is the shortest round-trip form; it omits ".0" only for values it prints
        // in exponent form, which already satisfy "decimal point or exponent".
        out.append(contentsOf: d.description.utf8)
    }

    public static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out.append(contentsOf: "\\\"".utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: "\\\\".utf8)
            case 0x0A: out.append(contentsOf: "\\n".utf8)
            case 0x0D: out.append(contentsOf: "\\r".utf8)
            case 0x09: out.append(contentsOf: "\\t".utf8)
            case 0x00..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: "\\u00".utf8)
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0xF)])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

extension JSONValue {
    /// A float field: always written as a double (`1.0`, never `1`).
    @inline(__always) public static func num(_ d: Double) -> JSONValue { .double(d) }
    @inline(__always) public static func num(_ d: Double?) -> JSONValue { d.map { .double($0) } ?? .null }
    @inline(__always) public static func integer(_ i: Int) -> JSONValue { .int(Int64(i)) }
    @inline(__always) public static func str(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
    public static func strings(_ list: [String]) -> JSONValue { .array(list.map { .string($0) }) }
}
