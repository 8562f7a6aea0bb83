/// Reads the Prometheus text exposition format (version 0.0.4) into samples, as a Prometheus scrape does.
public enum ExpositionParser {
    public struct Failure: Error, CustomStringConvertible {
        public let line: Int
        public let message: String
        public var description: String { "line \(line): \(message)" }
    }

    public static func parse(_ text: String, extraLabels: [(String, String)] = []) throws -> [(Labels, Double)] {
        var out: [(Labels, Double)] = []
        var lineNumber = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = raw.drop { $0 == " " || $0 == "\t" }
            if line.isEmpty || line.first == "#" { continue }
            out.append(try sample(Array(line.utf8), extraLabels: extraLabels, line: lineNumber))
        }
        return out
    }

    private static func sample(_ b: [UInt8], extraLabels: [(String, String)], line: Int) throws -> (Labels, Double) {
        var i = 0
        func fail(_ m: String) -> Failure { Failure(line: line, message: m) }
        while i < b.count, b[i] != UInt8(ascii: "{"), b[i] != UInt8(ascii: " "), b[i] != UInt8(ascii: "\t") { i += 1 }
        let name = String(decoding: b[0..<i], as: UTF8.self)
        guard !name.isEmpty else { throw fail("missing metric name") }
        var pairs: [(String, String)] = [(Labels.metricName, name)]
        if i < b.count, b[i] == UInt8(ascii: "{") {
            i += 1
            while true {
                while i < b.count, b[i] == UInt8(ascii: " ") || b[i] == UInt8(ascii: ",") { i += 1 }
                guard i < b.count else { throw fail("unterminated label set") }
                if b[i] == UInt8(ascii: "}") {
                    i += 1
                    break
                }
                let ns = i
                while i < b.count, b[i] != UInt8(ascii: "="), b[i] != UInt8(ascii: " ") { i += 1 }
                let label = String(decoding: b[ns..<i], as: UTF8.self)
                while i < b.count, b[i] == UInt8(ascii: " ") { i += 1 }
                guard i + 1 < b.count, b[i] == UInt8(ascii: "="), b[i + 1] == UInt8(ascii: "\"") else { throw fail("expected =\" after label \(label)") }
                i += 2
                var value: [UInt8] = []
                while i < b.count, b[i] != UInt8(ascii: "\"") {
                    if b[i] == UInt8(ascii: "\\"), i + 1 < b.count {
                        i += 1
                        value.append(b[i] == UInt8(ascii: "n") ? 10 : b[i])
                    } else {
                        value.append(b[i])
                    }
                    i += 1
                }
                guard i < b.count else { throw fail("unterminated label value") }
                i += 1
                pairs.append((label, String(decoding: value, as: UTF8.self)))
            }
        }
        while i < b.count, b[i] == UInt8(ascii: " ") || b[i] == UInt8(ascii: "\t") { i += 1 }
        let vs = i
        while i < b.count, b[i] != UInt8(ascii: " "), b[i] != UInt8(ascii: "\t") { i += 1 }
        let text = String(decoding: b[vs..<i], as: UTF8.self)
        guard let v = Evaluator.parseFloat(text) else { throw fail("invalid value \"\(text)\"") }
        // Target labels win only where the series does not set them (honor_labels: false renames; we keep it simple).
        for (k, val) in extraLabels where !pairs.contains(where: { $0.0 == k }) { pairs.append((k, val)) }
        return (Labels(pairs), v)
    }
}
