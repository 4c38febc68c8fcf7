import Foundation
import HummingbirdTesting
import ReshaprConfig
import ReshaprJSON
import TestSupport
import Testing

@testable import ReshaprGateway

/// OpenAPI descriptions split over many files (Redocly and Swagger split layouts): refs
/// resolved against the file that holds them, three files deep, across cycles.
@Suite struct MultiFileSpecTests {
    static let files: [(String, String)] = SplitSpec.files + [
        (
            "all.yaml",
            """
            apiVersion: reshapr.io/v1
            kind: Service
            metadata: {name: split}
            spec: {version: '1', type: REST, artifacts: [{type: OPENAPI, path: api/openapi.yaml}]}
            ---
            apiVersion: reshapr.io/v1
            kind: ConfigurationPlan
            metadata: {name: split}
            spec: {service: {name: split, version: '1'}, backend: {mock: true}}
            ---
            apiVersion: reshapr.io/v1
            kind: Exposition
            metadata: {name: split}
            spec: {plan: split, path: /mcp/split}
            """
        ),
    ]

    static func directory() throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory()
        for (path, content) in files { try dir.write(path, content) }
        return dir
    }

    func toolsByName(_ mcp: MCPTestClient) async throws -> [String: JSONValue] {
        let list = try await mcp.request("tools/list")["result"]?["tools"]?.arrayValue ?? []
        return Dictionary(uniqueKeysWithValues: list.compactMap { tool in tool["name"]?.stringValue.map { ($0, tool) } })
    }

    @Test func everyOperationOfASplitDescriptionBecomesATool() async throws {
        let dir = try Self.directory()
        defer { dir.remove() }
        try await withRunningGateway(configDirectory: dir.path) { client, gateway in
            #expect(gateway.store.current.issues.isEmpty, "\(gateway.store.current.issues)")
            #expect(gateway.store.current.routing.endpoints["/mcp/split"]?.catalog.skipped.isEmpty == true)
            var mcp = MCPTestClient(client, path: "/mcp/split")
            _ = try await mcp.initialize()
            let tools = try await toolsByName(mcp)
            #expect(Set(tools.keys) == ["listPets", "getPet", "getOwner"])
            // A parameter of the path item (two files away), and one whose schema is in a third file.
            #expect(tools["getPet"]?["inputSchema"]?["properties"]?["petId"]?["type"] == "integer")
            #expect(tools["getPet"]?["inputSchema"]?["required"] == ["petId"])
            #expect(tools["listPets"]?["inputSchema"]?["properties"]?["limit"]?["maximum"] == 100)
            #expect(tools["getOwner"]?["inputSchema"]?["properties"]?["ownerId"]?["type"] == "string")
            // The response three files deep, a ref back into the root file, and a cycle across files.
            let pet = tools["getPet"]?["outputSchema"]
            #expect(pet?["properties"]?["name"]?["type"] == "string", "\(pet ?? nil)")
            #expect(pet?["properties"]?["local"]?["properties"]?["x"]?["type"] == "string")
            #expect(pet?["properties"]?["owner"]?["properties"]?["pets"]?["items"]?["description"]?.stringValue?.contains("recursive") == true, "\(pet ?? nil)")
            // Mock answers come from the bundled schemas too.
            let answer = try await mcp.callTool("getPet", ["petId": 1])
            #expect(answer["structuredContent"]?["name"]?.stringValue != nil, "\(answer)")

            // An edit of a referenced file is picked up like any other.
            try dir.write("api/schemas/limits.yaml", "Limit: {type: integer, minimum: 1, maximum: 50}")
            #expect(try await eventually { try await toolsByName(mcp)["listPets"]?["inputSchema"]?["properties"]?["limit"]?["maximum"] == 50 })
        }
    }

    @Test(arguments: [
        ("api/schemas/limits.yaml", nil, "api/parameters/common.yaml refers to api/schemas/limits.yaml, which cannot be read: file not found"),
        ("api/schemas/pet.yaml", "$ref: '../../../etc/passwd'", "api/schemas/pet.yaml: $ref ../../../etc/passwd: path ../../../etc/passwd escapes the configuration directory"),
        ("api/schemas/owner.yaml", "$ref: 'pet.yaml#/nothing/here'", "$ref api/schemas/pet.yaml#/nothing/here points to nothing"),
    ] as [(String, String?, String)])
    func aBrokenReferenceIsAnErrorNamingTheFiles(file: String, content: String?, expected: String) throws {
        let dir = try Self.directory()
        defer { dir.remove() }
        if let content {
            try dir.write(file, content)
        } else {
            try FileManager.default.removeItem(atPath: dir.path + "/" + file)
        }
        let configuration = try ConfigLoader(root: dir.path).load()
        #expect(configuration.errors.contains { $0.description.contains(expected) }, "\(configuration.issues.map(\.description))")
    }

    @Test func aRemoteReferenceSkipsOnlyWhatNeedsIt() async throws {
        let dir = try Self.directory()
        defer { dir.remove() }
        try dir.write("api/schemas/limits.yaml", "Limit: {$ref: 'https://schemas.example.com/limit.json'}")
        try await withRunningGateway(configDirectory: dir.path) { _, gateway in
            let endpoint = try #require(gateway.store.current.routing.endpoints["/mcp/split"])
            #expect(Set(endpoint.tools.compactMap { $0["name"]?.stringValue }) == ["getPet", "getOwner"])
            let skipped = endpoint.catalog.skipped.map(\.description).joined()
            #expect(skipped.contains("https://schemas.example.com/limit.json is remote, and the gateway fetches nothing"), "\(skipped)")
        }
    }

    /// Twilio's `api_v2010` (121 path items, 197 operations), split the way Redocly splits:
    /// each path item and each schema in a file of its own, refs rewritten relative to the file
    /// that holds them. It must give exactly the tools of the single file.
    @Test func aRealDescriptionSplitIntoFilesGivesTheSameTools() async throws {
        let source = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: Repository.openAPICorpus + "/twilio_api_v2010.json"))))
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("single/openapi.json", source.serialized())
        /// `value` with `#/components/schemas/X` refs pointing at `prefix` + `X.json`.
        func relinked(_ value: JSONValue, _ prefix: String) -> JSONValue {
            switch value {
            case .object(var members):
                for (key, member) in members {
                    if key == "$ref", let ref = member.stringValue, ref.hasPrefix("#/components/schemas/") {
                        members[key] = .string(prefix + ref.dropFirst("#/components/schemas/".count) + ".json")
                    } else {
                        members[key] = relinked(member, prefix)
                    }
                }
                return .object(members)
            case .array(let items): return .array(items.map { relinked($0, prefix) })
            default: return value
            }
        }
        var root = source.objectValue ?? [:]
        var paths: JSONObject = [:]
        for (index, (path, item)) in (source["paths"]?.objectValue ?? [:]).enumerated() {
            try dir.write("split/paths/item\(index).json", relinked(item, "../components/schemas/").serialized())
            paths[path] = ["$ref": .string("paths/item\(index).json")]
        }
        for (name, schema) in source["components"]?["schemas"]?.objectValue ?? [:] {
            try dir.write("split/components/schemas/\(name).json", relinked(schema, "").serialized())
        }
        root["paths"] = .object(paths)
        root["components"] = ["securitySchemes": source["components"]?["securitySchemes"] ?? [:]]
        try dir.write("split/openapi.json", JSONValue.object(root).serialized())
        var documents: [String] = []
        for name in ["single", "split"] {
            documents += [
                "apiVersion: reshapr.io/v1\nkind: Service\nmetadata: {name: \(name)}\nspec: {version: '1', type: REST, artifacts: [{type: OPENAPI, path: \(name)/openapi.json}]}",
                "apiVersion: reshapr.io/v1\nkind: ConfigurationPlan\nmetadata: {name: \(name)}\nspec: {service: {name: \(name), version: '1'}, backend: {mock: true}}",
                "apiVersion: reshapr.io/v1\nkind: Exposition\nmetadata: {name: \(name)}\nspec: {plan: \(name), path: /mcp/\(name)}",
            ]
        }
        try dir.write("all.yaml", documents.joined(separator: "\n---\n"))
        try await withRunningGateway(configDirectory: dir.path) { _, gateway in
            #expect(gateway.store.current.configuration.errors.isEmpty, "\(gateway.store.current.issues)")
            let single = try #require(gateway.store.current.routing.endpoints["/mcp/single"])
            let split = try #require(gateway.store.current.routing.endpoints["/mcp/split"])
            #expect(single.tools.count == 197)
            #expect(split.catalog.skipped.count == single.catalog.skipped.count)
            #expect(split.tools.compactMap { $0["name"] } == single.tools.compactMap { $0["name"] })
            #expect(split.tools.compactMap { $0["inputSchema"] } == single.tools.compactMap { $0["inputSchema"] })
            #expect(split.tools.compactMap { $0["outputSchema"] } == single.tools.compactMap { $0["outputSchema"] })
        }
    }
}
