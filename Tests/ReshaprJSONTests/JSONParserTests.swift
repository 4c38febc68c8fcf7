import Testing

@testable import ReshaprJSON

@Suite struct JSONParserTests {
    @Test func parsesEveryKindOfValue() throws {
        let value = try JSONParser.parse(#"{"a": [1, -2.5, 3e2, true, false, null, "x\n\u00e9\ud83d\ude00"], "big": 9007199254740993}"#)
        #expect(value["a"] == [1, -2.5, 300.0, true, false, nil, "x\né😀"])
        #expect(value["big"] == .integer(9_007_199_254_740_993))
    }

    @Test func objectsKeepTheirMembersOrderButCompareWithoutIt() throws {
        let parsed = try JSONParser.parse(#"{"zeta": 1, "alpha": {"b": 2, "a": 3}, "mid": [4]}"#)
        #expect(parsed.objectValue?.keys.elementsEqual(["zeta", "alpha", "mid"]) == true)
        #expect(parsed["alpha"]?.objectValue?.keys.elementsEqual(["b", "a"]) == true)
        let reordered = try JSONParser.parse(#"{"mid": [4], "alpha": {"a": 3, "b": 2}, "zeta": 1}"#)
        #expect(parsed == reordered)
        #expect(parsed.hashValue == reordered.hashValue)
        #expect(Set([parsed, reordered]).count == 1)
        #expect(parsed != (try JSONParser.parse(#"{"zeta": 1, "alpha": {"b": 2, "a": 3}, "mid": [5]}"#)))
        // Serialization stays canonical (keys sorted), whatever the order.
        #expect(parsed.serialized() == reordered.serialized())
        // A dictionary has no order: its object takes the keys' order.
        #expect(JSONValue(["b": 1, "a": 2]).objectValue?.keys.elementsEqual(["a", "b"]) == true)
    }

    @Test func integersAndFloatsStayApartButCompareEqual() throws {
        let integer = try JSONParser.parse("10")
        let float = try JSONParser.parse("10.0")
        guard case .integer = integer, case .number = float else {
            Issue.record("expected an integer and a float, got \(integer) and \(float)")
            return
        }
        #expect(integer == float)
    }

    @Test(arguments: [
        ("{\"a\": 1,}", "line 1, column 9"),
        ("{\"a\" 1}", "expected ':' after key"),
        ("[1, 2", "expected ',' or ']'"),
        ("01", "leading zeros"),
        ("\"abc", "unterminated string"),
        ("{\"a\": 1, \"a\": 2}", "duplicate key \"a\""),
        ("[1]\n  x", "line 2, column 3: unexpected data"),
        ("\"\\ud800\"", "unpaired surrogate"),
        ("tru", "invalid literal"),
    ])
    func reportsWhereTextIsMalformed(input: String, expected: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(input) }
        do {
            _ = try JSONParser.parse(input)
        } catch {
            #expect(error.description.contains(expected), "\(error.description)")
        }
    }

    @Test func boundsNestingInsteadOfOverflowingTheStack() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        do {
            _ = try JSONParser.parse(deep)
            Issue.record("deep nesting was accepted")
        } catch {
            #expect(error.message.contains("nesting deeper than \(JSONParser.maxDepth)"))
        }
    }

    @Test func serializationRoundTrips() throws {
        let value: JSONValue = ["s": "quote \" backslash \\ tab \t ctrl \u{01}", "n": 1.5, "i": -3, "a": [nil, true], "o": [:]]
        let text = value.serialized()
        #expect(try JSONParser.parse(text) == value)
        #expect(try JSONParser.parse(value.serialized(pretty: true)) == value)
        #expect(JSONValue.object(["b": 1, "a": 2]).serialized() == #"{"a":2,"b":1}"#)
    }

    @Test func pathsPrintLikeFieldNames() {
        let path = JSONPath.root.appending("spec").appending("artifacts").appending(index: 0).appending("X-Api-Key")
        #expect(path.description == #"spec.artifacts[0]["X-Api-Key"]"#)
        #expect(path.pointer == "/spec/artifacts/0/X-Api-Key")
    }
}
