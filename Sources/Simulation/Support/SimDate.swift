/// A calendar date without time or zone: the simulation's month axis.
public struct SimDate: Sendable, Equatable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
            (1...SimDate.daysIn(year: year, month: month)).contains(day)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    private init(unchecked year: Int, _ month: Int, _ day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// Why a string is not a date: the wording of Python's `date` constructor where it applies.
    public enum ParseError: Error, Equatable {
        case format
        case monthOutOfRange
        case dayOutOfRange
    }

    /// Parses exactly `YYYY-MM-DD`.
    public static func parse(_ s: String) -> Result<SimDate, ParseError> {
        let b = Array(s.utf8)
        guard b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-") else { return .failure(.format) }
        func num(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r {
                guard b[i] >= 0x30 && b[i] <= 0x39 else { return nil }
                v = v * 10 + Int(b[i] - 0x30)
            }
            return v
        }
        guard let y = num(0..<4), let m = num(5..<7), let d = num(8..<10), y >= 1 else { return .failure(.format) }
        guard (1...12).contains(m) else { return .failure(.monthOutOfRange) }
        guard let date = SimDate(year: y, month: m, day: d) else { return .failure(.dayOutOfRange) }
        return .success(date)
    }

    public static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    public static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// `months` calendar months later, with the day clamped to the end of a shorter month
    /// (2026-01-31 + 1 = 2026-02-28). Always counted from `self`, so days never drift.
    public func adding(months: Int) -> SimDate {
        let total = (year * 12 + (month - 1)) + months
        let y = total / 12
        let m = total % 12 + 1
        let d = min(day, SimDate.daysIn(year: y, month: m))
        return SimDate(unchecked: y, m, d)
    }

    public var description: String {
        func pad(_ v: Int, _ w: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    public static func < (a: SimDate, b: SimDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }
}
