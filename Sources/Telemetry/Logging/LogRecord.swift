import Foundation
import Logging

/// One log event, with metadata already flattened into snake_case keys.
public struct LogRecord: Sendable {
    public var time: TimeInterval
    public var level: Logger.Level
    public var message: String
    public var logger: String
    public var metadata: [(key: String, value: LogValue)]
    public var file: String
    public var function: String
    public var line: UInt

    public init(
        time: TimeInterval, level: Logger.Level, message: String, logger: String, metadata: [(key: String, value: LogValue)],
        file: String = "", function: String = "", line: UInt = 0
    ) {
        self.time = time
        self.level = level
        self.message = message
        self.logger = logger
        self.metadata = metadata
        self.file = file
        self.function = function
        self.line = line
    }

    public func value(_ key: String) -> LogValue? { metadata.last { $0.key == key }?.value }
}

/// A metadata value as written: numbers stay numbers in JSON.
public enum LogValue: Sendable, Equatable, CustomStringConvertible {
    case string(String)
    case number(String)
    case list([String])

    public var description: String {
        switch self {
        case .string(let s), .number(let s): return s
        case .list(let l): return "[" + l.joined(separator: ", ") + "]"
        }
    }
}

enum MetadataFlattener {
    /// Keys that must never reach a log, whatever a caller attaches.
    static let secretKeys: Set<String> = [
        "authorization", "cookie", "set_cookie", "password", "passwd", "secret", "token", "api_key", "apikey",
        "access_token", "refresh_token", "private_key", "body", "request_body",
    ]

    /// `hb.request.id` -> `hb_request_id`, `requestID` -> `request_id`.
    static func snakeCase(_ key: String) -> String {
        // Fast path: lower-case ASCII keys with `_` or `.` separators (byte-level, no Character properties).
        if !key.isEmpty, key.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F || $0 == 0x2E }),
            key.utf8.last != 0x5F, key.utf8.last != 0x2E
        {
            return key.utf8.contains(0x2E) ? String(decoding: key.utf8.map { $0 == 0x2E ? 0x5F : $0 }, as: UTF8.self) : key
        }
        var out = ""
        var previousLower = false
        for ch in key {
            if ch.isUppercase {
                if previousLower { out.append("_") }
                out.append(Character(ch.lowercased()))
                previousLower = false
            } else if ch.isLetter || ch.isNumber {
                out.append(ch)
                previousLower = ch.isLowercase || ch.isNumber
            } else {
                if !out.hasSuffix("_") && !out.isEmpty { out.append("_") }
                previousLower = false
            }
        }
        while out.hasSuffix("_") { out.removeLast() }
        return out.isEmpty ? "field" : out
    }

    /// Hummingbird's own request id; the service logs `request_id` instead.
    static let skippedKeys: Set<String> = ["hb.request.id"]

    static func flatten(_ metadata: Logger.Metadata, into out: inout [(key: String, value: LogValue)], prefix: String = "") {
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            if prefix.isEmpty && skippedKeys.contains(key) { continue }
            let name = snakeCase(prefix.isEmpty ? key : prefix + "_" + key)
            if secretKeys.contains(name) {
                out.append((name, .string("[redacted]")))
                continue
            }
            switch value {
            case .string(let s): out.append((name, .string(s)))
            case .stringConvertible(let c):
                // Concrete casts first: they are much cheaper than an existential one.
                if let i = c as? Int {
                    out.append((name, .number(String(i))))
                } else if let d = c as? Double {
                    out.append((name, d.isFinite ? .number(d.description) : .string(d.description)))
                } else if let i = c as? any BinaryInteger {
                    out.append((name, .number("\(i)")))
                } else {
                    out.append((name, .string(c.description)))
                }
            case .dictionary(let d): flatten(d, into: &out, prefix: name)
            case .array(let a): out.append((name, .list(a.map { $0.description })))
            }
        }
    }
}
