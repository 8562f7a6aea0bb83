import Simulation
import Testing

@Suite struct JSONParserTests {
    @Test func parsesNestedDocumentsKeepingKeyOrder() throws {
        let v = try JSONParser.parse(#"{"b": [1, 2.5, "x", true, null], "a": {"z": -3e2}}"#)
        #expect(v.objectValue?.keys == ["b", "a"])
        #expect(v["b"] == [1, 2.5, "x", true, nil])
        #expect(v["a"]?["z"] == .double(-300))
    }

    @Test func integerLiteralsStayIntegers() throws {
        #expect(try JSONParser.parse("12") == .int(12))
        #expect(try JSONParser.parse("12.0") == .double(12))
        #expect(try JSONParser.parse("99999999999999999999") == .double(1e20))
    }

    @Test func repeatedKeysReturnTheLastValue() throws {
        #expect(try JSONParser.parse(#"{"a": 1, "a": 2}"#)["a"] == .int(2))
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        #expect(try JSONParser.parse(#""a\n\"\u00e9\ud83d\ude00""#) == .string("a\n\"é😀"))
    }

    @Test(arguments: [
        ("", 0, "Expecting value"),
        ("{", 1, "Expecting property name enclosed in double quotes"),
        (#"{"a" 1}"#, 5, "Expecting ':' delimiter"),
        (#"{"a": 1 "b": 2}"#, 8, "Expecting ',' delimiter"),
        ("[1,]", 3, "Expecting value"),
        ("{} x", 3, "Extra data"),
        (#""abc"#, 0, "Unterminated string starting at"),
        (#"{"é": x}"#, 6, "Expecting value"),
    ])
    func reportsPythonStyleErrorsWithCharacterOffsets(text: String, offset: Int, message: String) {
        #expect(throws: JSONParser.Failure(offset: offset, message: message)) { try JSONParser.parse(text) }
    }

    @Test func rejectsExcessiveNesting() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(deep) }
    }

    @Test func acceptsPythonNonFiniteLiterals() throws {
        #expect(try JSONParser.parse("-Infinity") == .double(-.infinity))
        #expect(try JSONParser.parse("NaN").numberValue?.isNaN == true)
    }
}

@Suite struct JSONWriterTests {
    @Test func floatsAlwaysCarryAPointOrExponent() {
        #expect(JSONWriter.string(.double(1)) == "1.0")
        #expect(JSONWriter.string(.double(0.1025)) == "0.1025")
        #expect(JSONWriter.string(.double(1e-5)) == "1e-05")
        #expect(JSONWriter.string(.int(3)) == "3")
    }

    @Test func roundTripsDoublesExactly() throws {
        for d in [0.1, 1.0 / 3.0, 123456.789, 5e-324, 1.7976931348623157e308] {
            #expect(try JSONParser.parse(JSONWriter.string(.double(d))).numberValue == d)
        }
    }

    @Test func writesCompactObjectsInOrderAndEscapesStrings() {
        let v: JSONValue = ["b": 1, "a": ["x\n\"", nil]]
        #expect(JSONWriter.string(v) == #"{"b":1,"a":["x\n\"",null]}"#)
    }

    @Test func nonFiniteNumbersBecomeNull() {
        #expect(JSONWriter.string(.double(.nan)) == "null")
    }
}
