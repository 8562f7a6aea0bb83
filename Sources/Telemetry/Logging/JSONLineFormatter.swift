import Foundation
import Logging

/// One JSON object per line: `ts` (RFC 3339, UTC, microseconds), `level`, `msg`, `logger`, then the
/// metadata in key order. The date prefix is cached per second, so formatting stays cheap.
public final class JSONLineFormatter: @unchecked Sendable {
    private let lock = NSLock()
    private var cachedSecond: Int64 = .min
    private var cachedPrefix: [UInt8] = []

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

    private func appendTimestamp(_ t: TimeInterval, _ out: inout [UInt8]) {
        let second = Int64(t.rounded(.down))
        var micros = Int((t - Double(second)) * 1_000_000)
        micros = min(max(micros, 0), 999_999)
        lock.lock()
        if second != cachedSecond {
            var tm = tm()
            var s = time_t(second)
            gmtime_r(&s, &tm)
            cachedPrefix = Array(
                String(
                    format: "%04d-%02d-%02dT%02d:%02d:%02d.", Int(tm.tm_year) + 1900, Int(tm.tm_mon) + 1, Int(tm.tm_mday),
                    Int(tm.tm_hour), Int(tm.tm_min), Int(tm.tm_sec)
                ).utf8)
            cachedSecond = second
        }
        out.append(contentsOf: cachedPrefix)
        lock.unlock()
        var digits = [UInt8](repeating: 0x30, count: 6)
        for i in (0..<6).reversed() {
            digits[i] = UInt8(0x30 + micros % 10)
            micros /= 10
        }
        out.append(contentsOf: digits)
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
