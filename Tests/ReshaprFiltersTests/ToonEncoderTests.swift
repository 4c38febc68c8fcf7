import Foundation
import ReshaprFilters
import ReshaprJSON
import Testing
import TestSupport

@Suite("TOON encoder")
struct ToonEncoderTests {
    struct Fixture: CustomTestStringConvertible, Sendable {
        var file: String
        var name: String
        var input: JSONValue
        var expected: String
        var delimiter: ToonEncoder.Delimiter
        var indentSize: Int

        var testDescription: String { "\(file): \(name)" }
    }

    /// Every test of every file in the specification's `fixtures/encode`.
    static func fixtures() throws -> [Fixture] {
        let directory = Repository.toonCorpus + "/fixtures/encode"
        var fixtures: [Fixture] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: directory).sorted() where file.hasSuffix(".json") {
            let document = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/" + file))))
            for test in document["tests"]?.arrayValue ?? [] {
                let options = test["options"]
                let delimiter = options?["delimiter"]?.stringValue.flatMap(ToonEncoder.Delimiter.init(rawValue:)) ?? .comma
                fixtures.append(
                    Fixture(
                        file: file, name: test["name"]?.stringValue ?? "?", input: test["input"] ?? .null,
                        expected: test["expected"]?.stringValue ?? "", delimiter: delimiter, indentSize: options?["indentSize"]?.intValue ?? 2))
            }
        }
        return fixtures
    }

    @Test("the conformance fixtures are all there")
    func fixturesFound() throws {
        // The corpus holds 173 encode tests in 9 files; a missing directory must fail, not pass empty.
        #expect(try Self.fixtures().count >= 173)
    }

    @Test("every encode fixture of the specification", arguments: try fixtures())
    func encodes(_ fixture: Fixture) {
        let encoder = ToonEncoder(delimiter: fixture.delimiter, indentSize: fixture.indentSize)
        #expect(encoder.encode(fixture.input) == fixture.expected)
    }

    @Test("doubles take the canonical decimal form, exponents outside 1e-6 ..< 1e21")
    func numbers() {
        let encoder = ToonEncoder()
        #expect(encoder.encode(.number(1.5)) == "1.5")
        #expect(encoder.encode(.number(-0.0)) == "0")
        #expect(encoder.encode(.number(1e20)) == "100000000000000000000")
        #expect(encoder.encode(.number(1e21)) == "1e+21")
        #expect(encoder.encode(.number(1.25e-7)) == "1.25e-7")
        #expect(encoder.encode(.number(123.456)) == "123.456")
        #expect(encoder.encode(.number(.nan)) == "null")
        #expect(encoder.encode(.number(-2.5e-3)) == "-0.0025")
    }
}
