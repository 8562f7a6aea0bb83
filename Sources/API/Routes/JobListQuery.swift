import Foundation
import Hummingbird
import Simulation

/// `GET /api/v2/abm/jobs?limit=N&cursor=C`: a page of at most `limit` jobs (default 100, at most 1000) in
/// submission order, after the job the cursor names. The cursor is opaque to clients (`next_cursor` of the
/// previous page) and stable: it names a position in submission order, so pages neither skip nor repeat
/// jobs while others are submitted or deleted.
struct JobListQuery: Equatable {
    static let defaultLimit = 100
    static let maxLimit = 1000

    var limit = defaultLimit
    var after: Int64?

    init(limit: Int = defaultLimit, after: Int64? = nil) {
        self.limit = limit
        self.after = after
    }

    init(_ query: Parameters) throws {
        var issues: [ValidationIssue] = []
        if let raw = query.get("limit") {
            if let n = Int(raw), (1...Self.maxLimit).contains(n) {
                limit = n
            } else {
                issues.append(
                    ValidationIssue(
                        type: "int_parsing", loc: [.key("limit")],
                        msg: "Input should be an integer from 1 to \(Self.maxLimit)", input: .string(String(raw.prefix(64)))))
            }
        }
        if let raw = query.get("cursor"), !raw.isEmpty {
            if let seq = Self.sequence(of: raw) {
                after = seq
            } else {
                issues.append(
                    ValidationIssue(
                        type: "value_error", loc: [.key("cursor")],
                        msg: "Invalid cursor: pass the next_cursor of an earlier page", input: .string(String(raw.prefix(64)))))
            }
        }
        if !issues.isEmpty {
            throw APIError.raw(.unprocessableContent, ["detail": .array(issues.map { $0.json(locPrefix: ["query"]) })])
        }
    }

    /// `c1.<base36 sequence>`: versioned, so the encoding can change without breaking old cursors silently.
    static func cursor(after sequence: Int64) -> String { "c1." + String(sequence, radix: 36) }

    static func sequence(of cursor: String) -> Int64? {
        guard cursor.hasPrefix("c1."), cursor.count <= 20, let n = Int64(cursor.dropFirst(3), radix: 36), n >= 0 else {
            return nil
        }
        return n
    }
}
