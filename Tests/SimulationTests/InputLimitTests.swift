import Foundation
import Simulation
import Testing

/// Input limits are checked before the work: a list past its bound is refused before its items are looked
/// at, error lists are bounded, echoed inputs are cut, names have a maximum length.
@Suite struct InputLimitTests {
    func body(buckets: [String], name: String = "T") -> [UInt8] {
        Array(#"{"token": {"name": "\#(name)", "total_supply": 1000000, "start_date": "2026-01-01", "horizon_months": 12}, "buckets": [\#(buckets.joined(separator: ","))], "abm": {}}"#.utf8)
    }

    func failure(_ bytes: [UInt8]) throws -> ValidationFailure {
        switch ABMRequestDecoder.decode(bytes: bytes) {
        case .success: throw ValidationFailure([])
        case .failure(let f): return f
        }
    }

    @Test func tooManyBucketsIsOneProblemFoundBeforeTheItems() throws {
        // 1,500 buckets, each of them invalid too: one issue, about the count, with a bounded echo.
        let f = try failure(body(buckets: Array(repeating: #"{"bucket": "", "allocation": -1}"#, count: 1500)))
        #expect(f.issues.count == 1 && f.omitted == 0)
        #expect(f.issues[0].msg == "Value error, Too many buckets (1500). Maximum allowed is 1000.")
        let echoed = try #require(f.json["detail"]?.arrayValue?.first?["input"]?.arrayValue)
        #expect(echoed.count == 11)
        #expect(echoed.last == .string("... (1500 items)"))
    }

    @Test func errorListsAreCappedWithACountOfTheRest() throws {
        let f = try failure(body(buckets: Array(repeating: #"{"bucket": "B", "allocation": -1, "tge_unlock_pct": 500, "cliff_months": 0, "vesting_months": 0}"#, count: 300)))
        #expect(f.issues.count == IssueCollector.limit)
        #expect(f.omitted == 500)
        let detail = try #require(f.json["detail"]?.arrayValue)
        #expect(detail.count == IssueCollector.limit + 1)
        #expect(detail.last?["type"] == "too_many_errors")
        #expect(detail.last?["msg"]?.stringValue?.hasPrefix("500 more problems not listed") == true)
    }

    @Test func namesHaveAMaximumLength() throws {
        let long = String(repeating: "n", count: ABMLimits.maxNameLength + 1)
        let bucket = #"{"bucket": "\#(long)", "allocation": 100, "tge_unlock_pct": 0, "cliff_months": 0, "vesting_months": 0}"#
        let f = try failure(body(buckets: [bucket], name: long))
        #expect(f.issues.map(\.type) == ["string_too_long", "string_too_long"])
        let ok = #"{"bucket": "\#(String(repeating: "n", count: ABMLimits.maxNameLength))", "allocation": 100, "tge_unlock_pct": 0, "cliff_months": 0, "vesting_months": 0}"#
        if case .failure(let e) = ABMRequestDecoder.decode(bytes: body(buckets: [ok])) { Issue.record("a name at the limit is valid: \(e.summary)") }
    }

    @Test func echoesAreBounded() {
        #expect(JSONValue.string(String(repeating: "x", count: 1000)).truncatedForEcho() == .string(String(repeating: "x", count: 200) + "... (1000 characters)"))
        #expect(JSONValue.string("short").truncatedForEcho() == .string("short"))
        let deep: JSONValue = .array([.array([.array([.array([.array([.int(1)])])])])])
        #expect(JSONWriter.string(deep.truncatedForEcho()) == #"[[[["[1 items]"]]]]"#)
    }
}
