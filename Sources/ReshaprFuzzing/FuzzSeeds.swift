import Foundation
import ReshaprJSON
import ReshaprProtobuf
import ReshaprSyncProtocol

/// Starting inputs for each fuzz target, made from `../shared/corpus` and `samples/` (read
/// where they are, never copied into the repository) plus a few hand-written messages.
public enum FuzzSeeds {
    /// Writes `DIR/<target>/<n>` for every target; returns how many inputs each got.
    @discardableResult
    public static func write(to directory: String, corpus: String, samples: String) throws -> [FuzzTarget: Int] {
        var counts: [FuzzTarget: Int] = [:]
        for target in FuzzTarget.allCases {
            let folder = directory + "/" + target.rawValue
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let inputs = seeds(for: target, corpus: corpus, samples: samples)
            for (index, input) in inputs.enumerated() {
                try Data(input).write(to: URL(fileURLWithPath: "\(folder)/seed-\(index)"))
            }
            counts[target] = inputs.count
        }
        return counts
    }

    static func files(in folder: String, extensions: Set<String>) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: folder) else { return [] }
        var found: [String] = []
        while let relative = enumerator.nextObject() as? String {
            if extensions.contains((relative as NSString).pathExtension.lowercased()) { found.append(folder + "/" + relative) }
        }
        return found.sorted()
    }

    static func read(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path).map(Array.init)
    }

    static func seeds(for target: FuzzTarget, corpus: String, samples: String) -> [[UInt8]] {
        let corpusJSON = files(in: corpus + "/openapi", extensions: ["json"]).compactMap(read)
        let corpusYAML = files(in: corpus + "/openapi", extensions: ["yaml", "yml"]).compactMap(read)
        let sampleYAML = files(in: samples, extensions: ["yaml", "yml"])
        switch target {
        case .json:
            return files(in: corpus + "/toon/fixtures", extensions: ["json"]).compactMap(read) + corpusJSON.prefix(5)
                + [Array(#"{"a":[1,2.5,-3e10,"\u00e9",true,null,{}]}"#.utf8)]
        case .config:
            // Each sample folder as one input: its YAML files behind `### name` lines.
            var inputs: [[UInt8]] = []
            var byFolder: [String: [String]] = [:]
            for path in sampleYAML { byFolder[(path as NSString).deletingLastPathComponent, default: []].append(path) }
            for (_, paths) in byFolder.sorted(by: { $0.key < $1.key }) {
                var input: [UInt8] = []
                for path in paths {
                    input += Array("### \((path as NSString).lastPathComponent)\n".utf8) + (read(path) ?? [])
                }
                inputs.append(input)
            }
            // A description split over files: refs from file to file, a fragment, a cycle.
            let split = """
                ### all.yaml
                apiVersion: reshapr.io/v1
                kind: Service
                metadata: {name: split}
                spec: {version: '1', type: REST, artifacts: [{type: OPENAPI, path: api/openapi.yaml}]}
                ---
                apiVersion: reshapr.io/v1
                kind: ConfigurationPlan
                metadata: {name: split}
                spec: {service: {name: split, version: '1'}, backend: {mock: true}}
                ### api/openapi.yaml
                openapi: 3.0.3
                info: {title: split, version: '1'}
                paths:
                  /pets/{id}: {$ref: 'paths/pet.yaml'}
                ### api/paths/pet.yaml
                parameters: [{$ref: '../common.yaml#/id'}]
                get:
                  operationId: getPet
                  responses: {'200': {description: ok, content: {application/json: {schema: {$ref: '../schemas/pet.yaml'}}}}}
                ### api/common.yaml
                id: {name: id, in: path, required: true, schema: {type: integer}}
                ### api/schemas/pet.yaml
                type: object
                properties: {name: {type: string}, parent: {$ref: 'pet.yaml'}, root: {$ref: '../openapi.yaml#/info'}}
                """
            return inputs + corpusYAML.prefix(3).map { Array("### api.yaml\n".utf8) + $0 } + [Array(split.utf8)]
        case .openapi:
            // The compiler reads JSON; the YAML descriptions reach it through the config target.
            return corpusJSON
        case .graphql:
            return files(in: samples, extensions: ["graphql", "graphqls", "gql"]).compactMap(read)
                + [Array("type Query { a(x: Int = 1, y: [String!]!): A } type A { b: A c: [A] d: E } enum E { X Y } union U = A".utf8)]
        case .protobuf:
            return files(in: samples, extensions: ["pb"]).compactMap(read)
        case .transcoder:
            let sample: JSONValue = [
                "fInt64": "-9007199254740993", "fDouble": 0.5, "fString": "é", "fBytes": "AAEC", "kind": "NEGATIVE", "labels": ["a": "1"],
                "wTimestamp": "2026-01-31T12:00:00.123456789Z", "wDuration": "-1.5s", "wStruct": ["k": [1, "x", ["y": nil]]], "child": ["fBool": true],
            ]
            var inputs: [[UInt8]] = [[1] + sample.serializedBytes(), [3] + Array(#"[1,"a",{"b":null}]"#.utf8), [7] + Array(#""1.000000001s""#.utf8)]
            if let pool = FuzzTarget.samplePool, let bytes = try? Transcoder(pool: pool).encode(sample, as: "fuzz.Sample") { inputs.append([0] + bytes) }
            return inputs
        case .mcp:
            let messages: [JSONValue] = [
                ["jsonrpc": "2.0", "id": 1, "method": "initialize", "params": ["protocolVersion": "2025-06-18", "capabilities": [:], "clientInfo": ["name": "f", "version": "1"]]],
                ["jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": ["cursor": "3"]],
                ["jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": ["name": "getPetById", "arguments": ["petId": 10]]],
                ["jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": ["name": "GetPet", "arguments": ["id": "42"]]],
                ["jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": ["name": "books", "arguments": [:]]],
                [["jsonrpc": "2.0", "id": 6, "method": "ping"], ["jsonrpc": "2.0", "method": "notifications/cancelled", "params": ["requestId": 6]]],
                ["jsonrpc": "2.0", "id": 16, "method": "prompts/list", "params": [:]],
                ["jsonrpc": "2.0", "id": 17, "method": "prompts/get", "params": ["name": "adoption-advice", "arguments": ["household": "two cats"]]],
                ["jsonrpc": "2.0", "id": 18, "method": "resources/read", "params": ["uri": "petstore:///pet/10"]],
            ]
            let meta: JSONValue = [
                "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": ["elicitation": [:]],
            ]
            let modern: [JSONValue] = [
                ["jsonrpc": "2.0", "id": 7, "method": "server/discover", "params": ["_meta": meta]],
                ["jsonrpc": "2.0", "id": 8, "method": "tools/list", "params": ["_meta": meta, "cursor": "1"]],
                ["jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": ["_meta": meta, "name": "getPetById", "arguments": ["petId": 10]]],
                [
                    "jsonrpc": "2.0", "id": 10, "method": "tools/call",
                    "params": [
                        "_meta": meta, "name": "getPetById", "arguments": ["petId": 10], "requestState": "e30.AAAA",
                        "inputResponses": ["credential": ["action": "accept", "content": ["value": "k"]]],
                    ],
                ],
                ["jsonrpc": "2.0", "id": 11, "method": "subscriptions/listen", "params": ["_meta": meta, "notifications": ["toolsListChanged": true]]],
                ["jsonrpc": "2.0", "id": 12, "method": "prompts/get", "params": ["_meta": meta, "name": "pet-summary", "arguments": ["petId": "7"]]],
                ["jsonrpc": "2.0", "id": 13, "method": "resources/read", "params": ["_meta": meta, "uri": "petstore:///docs/care-guide.md"]],
                ["jsonrpc": "2.0", "id": 14, "method": "resources/read", "params": ["_meta": meta, "uri": "petstore:///pet/%2e%2E"]],
                ["jsonrpc": "2.0", "id": 15, "method": "resources/templates/list", "params": ["_meta": meta]],
            ]
            // 0x1C: the modern headers (selector bits 2-4 all set), on each of the three endpoints.
            return messages.flatMap { message in [UInt8(0x04), 0x05, 0x09, 0x0E, 0x11].map { [$0] + message.serializedBytes() } }
                + modern.flatMap { message in [UInt8(0x1C), 0x1D, 0x1E].map { [$0] + message.serializedBytes() } }
        case .filters:
            let pet: JSONValue = ["id": 7, "name": "Rex", "category": ["id": 1, "name": "Dogs"], "tags": [["id": 1, "name": "good"]], "status": "sold"]
            let schema: JSONValue = [
                "type": "object", "required": ["name"],
                "properties": [
                    "id": ["type": "integer"], "name": ["type": "string"], "status": ["type": "string"],
                    "category": ["type": "object", "properties": ["id": ["type": "integer"], "name": ["type": "string"]]],
                    "tags": ["type": "array", "items": ["type": "object", "properties": ["id": ["type": "integer"], "name": ["type": "string"]]]],
                ],
            ]
            let filters: [JSONValue] = [
                ["jsonRetain": ["/name", "/category/name", "/tags/0/name"]],
                ["jsonPatches": [["op": "test", "path": "/status", "value": "sold"], ["op": "move", "from": "/category", "path": "/kind"], ["op": "add", "path": "/tags/-", "value": 1]]],
                ["jsonRetain": ["/tags"], "jsonPatches": [["op": "copy", "from": "/tags/0", "path": "/first"], ["op": "remove", "path": "/tags/0/id"]]],
                ["convertToToon": true],
            ]
            let toon = files(in: corpus + "/toon/fixtures/encode", extensions: ["json"]).compactMap(read).compactMap { try? JSONParser.parse($0) }
                .flatMap { $0["tests"]?.arrayValue ?? [] }.compactMap { $0["input"] }.prefix(40)
            return filters.map { JSONValue.array([$0, pet, schema]).serializedBytes() }
                + toon.map { JSONValue.array([["convertToToon": true], $0, true]).serializedBytes() }
        case .uritemplate:
            return [
                "file:///project/src/{path}?mode=raw\nfile:///project/src/doc.md?mode=raw\nfile:///project/src/a%2Fb?mode=raw\nfile:///project/src/..?mode=raw",
                "acme://{org}/repos/{repo}.json\nacme://o/repos/r.v2.json\nacme://o/repos/.json",
                "x:{a}-{b}\nx:1-2-3\nx:%41-%zz",
            ].map { Array($0.utf8) }
        case .sync:
            var snapshot = Reshapr_Gateway_V1_Snapshot()
            for path in sampleYAML + files(in: samples, extensions: ["pb", "graphql", "json"]) {
                guard let content = read(path) else { continue }
                var file = Reshapr_Gateway_V1_File()
                file.path = String(path.dropFirst(samples.count + 1))
                file.content = Data(content)
                file.sha256 = Reshapr_Gateway_V1_File.sha256Hex(file.content)
                snapshot.files.append(file)
            }
            var event = Reshapr_Gateway_V1_ConfigurationEvent()
            event.revision = 1
            event.snapshot = snapshot
            var change = Reshapr_Gateway_V1_ConfigurationEvent()
            change.revision = 2
            change.change.deletions = ["petstore/mcp.yaml"]
            return [event, change].compactMap { try? $0.serializedBytes() }
        }
    }
}
