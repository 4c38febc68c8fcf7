import ArgumentParser
import Foundation
import ReshaprFilters
import ReshaprJSON

/// The output filters alone, without HTTP: what retain+patch and TOON add to one Petstore
/// answer (the benchmark backend's), and the bytes of TOON against compact JSON for every JSON
/// document of the corpus, for the `example` values those documents carry (sample API answers),
/// and for the inputs of the TOON specification's encode fixtures. Prints JSON lines.
@main
struct FilterBench: ParsableCommand {
    @Option(help: "A directory of JSON documents (the OpenAPI corpus).") var corpus: String
    @Option(help: "The TOON specification's fixtures/encode directory.") var fixtures: String

    @Option(help: "Iterations of each filter measurement.") var iterations = 200_000

    func run() throws {
        try measureCost()
        var documents: [JSONValue] = []
        var examples: [JSONValue] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: corpus).sorted() where file.hasSuffix(".json") {
            let document = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: corpus + "/" + file))))
            documents.append(document)
            collectExamples(document, into: &examples)
        }
        var inputs: [JSONValue] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: fixtures).sorted() where file.hasSuffix(".json") {
            let suite = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: fixtures + "/" + file))))
            inputs += (suite["tests"]?.arrayValue ?? []).compactMap { $0["input"] }
        }
        for (label, set) in [("corpus documents", documents), ("corpus examples", examples), ("TOON fixture inputs", inputs)] {
            report(label, set)
        }
    }

    /// Nanoseconds per answer of each step the gateway takes with a filter, on the answer of
    /// `GET /pet/{id}`, best of three rounds.
    func measureCost() throws {
        let body = Array(#"{"id":10,"name":"doggie","category":{"id":1,"name":"Dogs"},"photoUrls":["string"],"tags":[{"id":1,"name":"string"}],"status":"available"}"#.utf8)
        let answer = try JSONParser.parse(body)
        let retained = try OutputFilter(spec: [
            "jsonRetain": ["/name", "/status", "/category/name", "/tags"],
            "jsonPatches": [["op": "move", "from": "/category/name", "path": "/kind"], ["op": "remove", "path": "/category"]],
        ])
        let petSchema: JSONValue = [
            "type": "object", "properties": ["name": ["type": "string"], "status": ["type": "string"], "category": ["type": "object"], "tags": ["type": "array"]],
        ]
        guard let derived = retained.outputSchema(from: petSchema) else { throw ValidationError("the benchmark filter has no output schema") }
        let schema = try JSONSchemaValidator(schema: derived, strict: false)
        let encoder = ToonEncoder()
        let steps: [(String, () -> Int)] = [
            ("parse (done with or without a filter)", { (try? JSONParser.parse(body)).map { _ in 1 } ?? 0 }),
            ("retain+patch, serialize, check against the derived schema", {
                let document = retained.apply(to: answer).document
                return document.serializedBytes().count + schema.validate(document).count
            }),
            ("TOON", { encoder.encode(answer).utf8.count }),
        ]
        for (label, step) in steps {
            var best = Double.infinity
            for _ in 0..<3 {
                var sink = 0
                let started = ContinuousClock.now
                for _ in 0..<iterations { sink &+= step() }
                let elapsed = ContinuousClock.now - started
                let nanoseconds = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
                best = min(best, nanoseconds / Double(iterations))
                if sink == 42 { print("") }
            }
            print(JSONValue(["benchmark": "filterCost", "step": .string(label), "nsPerAnswer": .number(best.rounded())]).serialized())
        }
    }

    /// Object and array values of `example` members, and the values of `examples` maps.
    func collectExamples(_ value: JSONValue, into out: inout [JSONValue]) {
        var stack = [value]
        while let current = stack.popLast() {
            switch current {
            case .object(let members):
                for (key, member) in members {
                    if key == "example", member.isContainer { out.append(member) }
                    if key == "examples", case .object(let named) = member {
                        for example in named.values { if let value = example["value"], value.isContainer { out.append(value) } }
                    }
                    stack.append(member)
                }
            case .array(let elements):
                stack.append(contentsOf: elements)
            default:
                break
            }
        }
    }

    func report(_ label: String, _ values: [JSONValue]) {
        let encoder = ToonEncoder()
        var json = 0
        var toon = 0
        var smaller = 0
        var ratios: [Double] = []
        for value in values where !value.depth(exceeds: ToonEncoder.maxDepth) {
            let jsonBytes = value.serializedBytes().count
            let toonBytes = encoder.encode(value).utf8.count
            json += jsonBytes
            toon += toonBytes
            if toonBytes < jsonBytes { smaller += 1 }
            if jsonBytes > 0 { ratios.append(Double(toonBytes) / Double(jsonBytes)) }
        }
        ratios.sort()
        let median = ratios.isEmpty ? 1 : ratios[ratios.count / 2]
        let line: JSONValue = [
            "benchmark": "toonSize", "set": .string(label), "values": .integer(values.count), "jsonBytes": .integer(json), "toonBytes": .integer(toon),
            "smaller": .integer(smaller), "medianRatio": .number((median * 1000).rounded() / 1000),
        ]
        print(line.serialized())
    }
}

extension JSONValue {
    var isContainer: Bool {
        switch self {
        case .object, .array: return true
        default: return false
        }
    }
}
