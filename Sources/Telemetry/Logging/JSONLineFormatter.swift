import Foundation
import Logging

/// One JSON object per line: `ts` (RFC 3339, UTC, microseconds), `level`, `msg`, `logger`, then the
/// metadata in key order. Pure byte appends, so many threads can format at once.
public final class JSONLineFormatter: Sendable {
    public init() {}

    public func format(_ r: LogRecord) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(160 + r.message.utf8.count + r.metadata.count * 24)
        out.append(contentsOf: #"{"ts":""#.utf8)
        appendTimestamp(r.time, &out)
        out.append(contentsOf: #"","level":""#.utf8)
        out.append(contentsOf: r.level.rawValue.utf8)
        out.append(contentsOf: #"","msg":"#.utf8)
        Self.string(r.message, &out)
        out.append(contentsOf: #","logger":"#.utf8)
        Self.string(r.logger, &out)
        for (key, value) in r.metadata {
            out.append(UInt8(ascii: ","))
            Self.string(key, &out)
            out.append(UInt8(ascii: ":"))
            switch value {
            case .string(let s): Self.string(s, &out)
            case .number(let n): out.append(contentsOf: n.utf8)
            case .list(let l):
                out.append(UInt8(ascii: "["))
                for (i, s) in l.enumerated() {
                    if i > 0 { out.append(UInt8(ascii: ",")) }
                    Self.string(s, &out)
                }
                out.append(UInt8(ascii: "]"))
            }
        }
        out.append(contentsOf: "}\n".utf8)
        return out
    }

    /// RFC 3339 from the epoch with integer arithmetic only (no locale, no lock, no allocation).
    private func appendTimestamp(_ t: TimeInterval, _ out: inout [UInt8]) {
        let second = Int64(t.rounded(.down))
        let micros = min(max(Int64((t - Double(second)) * 1_000_000), 0), 999_999)
        var days = second >= 0 ? second / 86400 : (second - 86399) / 86400
        let secs = second - days * 86400
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let doe = days - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func digits(_ v: Int64, _ n: Int) {
            var buf = [UInt8](repeating: 0x30, count: n)
            var x = v
            for k in (0..<n).reversed() {
                buf[k] = UInt8(0x30 + x % 10)
                x /= 10
            }
            out.append(contentsOf: buf)
        }
        digits(y, 4)
        out.append(UInt8(ascii: "-"))
        digits(m, 2)
        out.append(UInt8(ascii: "-"))
        digits(d, 2)
        out.append(UInt8(ascii: "T"))
        digits(secs / 3600, 2)
        out.append(UInt8(ascii: ":"))
        digits(secs / 60 % 60, 2)
        out.append(UInt8(ascii: ":"))
        digits(secs % 60, 2)
        out.append(UInt8(ascii: "."))
        digits(micros, 6)
        out.append(UInt8(ascii: "Z"))
    }

    static func string(_ s: String, _ out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
            case 0x0A: out.append(contentsOf: #"\n"#.utf8)
            case 0x0D: out.append(contentsOf: #"\r"#.utf8)
            case 0x09: out.append(contentsOf: #"\t"#.utf8)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: #"\u00"#.utf8)
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 15)])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
