import ReshaprJSON
import ReshaprTools
import Testing

@testable import ReshaprGraphQL

@Suite struct GraphQLCompilerTests {
    static let sdl = """
        \"\"\"A pet of the store.\"\"\"
        type Pet implements Node {
          id: ID!
          name: String!
          status: Status
          tags: [String!]
          owner: Owner
          friends(first: Int = 5): [Pet!]!
          photos(size: Int!): [String]
        }
        type Owner implements Node { id: ID! name: String pets: [Pet!]! address: Address }
        type Address { city: String country: Country }
        type Country { code: String }
        interface Node { id: ID! }
        union SearchResult = Pet | Owner
        enum Status { AVAILABLE PENDING SOLD }
        input PetInput { name: String!, status: Status = AVAILABLE, tags: [String!], owner: OwnerInput }
        input OwnerInput { name: String!, referrer: OwnerInput }
        scalar DateTime
        type Query {
          \"\"\"Finds a pet by id.\"\"\"
          pet(id: ID!): Pet
          pets(status: Status, first: Int = 10): [Pet!]!
          search(text: String!): [SearchResult!]!
          node(id: ID!): Node
          serverTime: DateTime
          count: Int!
        }
        type Mutation { addPet(input: PetInput!): Pet! }
        extend type Query { version: String }
        """

    @Test func oneToolPerRootFieldWithArgumentsAsInputSchema() throws {
        let catalog = try GraphQLCompiler.compile(.sdl(Self.sdl))
        #expect(catalog.tools.map(\.definition.name) == ["pet", "pets", "search", "node", "serverTime", "count", "version", "addPet"])
        #expect(catalog.skipped.isEmpty)
        let pet = try #require(catalog.tool(named: "pet"))
        #expect(pet.definition.description == "Finds a pet by id.")
        #expect(pet.definition.inputSchema["required"] == ["id"])
        #expect(pet.definition.inputSchema["properties"]?["id"]?["type"] == ["string", "integer"])
        #expect(pet.definition.annotations.readOnlyHint == true)
        // Pet.friends is a Pet again: the cycle is cut.
        #expect(pet.binding.document == "query pet($id: ID!) { pet(id: $id) { id name status tags owner { id name } } }")

        let pets = try #require(catalog.tool(named: "pets"))
        #expect(pets.definition.inputSchema["required"] == nil, "nullable and defaulted arguments are optional")
        #expect(pets.definition.inputSchema["properties"]?["status"]?["enum"] == ["AVAILABLE", "PENDING", "SOLD"])

        let add = try #require(catalog.tool(named: "addPet"))
        #expect(add.binding.kind == .mutation)
        #expect(add.definition.annotations.destructiveHint == true)
        #expect(add.definition.annotations.readOnlyHint == false)
        let input = try #require(add.definition.inputSchema["properties"]?["input"])
        #expect(input["required"] == ["name"])
        #expect(input["properties"]?["tags"]?["items"]?["type"] == "string")
        // Recursive input types are cut.
        #expect(input["properties"]?["owner"]?["properties"]?["referrer"]?["description"] == "OwnerInput (recursive; see above)")
    }

    @Test func abstractTypesGetTypenameAndFragments() throws {
        let catalog = try GraphQLCompiler.compile(.sdl(Self.sdl))
        let search = try #require(catalog.tool(named: "search"))
        #expect(search.binding.document.contains("{ __typename ... on Pet { id name status tags } ... on Owner { id name } }"))
        let node = try #require(catalog.tool(named: "node"))
        #expect(node.binding.document.hasSuffix("node(id: $id) { __typename id } }"))
        #expect(try #require(catalog.tool(named: "count")).binding.document == "query count { count }")
    }

    @Test func depthAndOverridesShapeTheSelection() throws {
        let deep = try GraphQLCompiler.compile(.sdl(Self.sdl), selectionDepth: 3)
        #expect(try #require(deep.tool(named: "pet")).binding.document.contains("owner { id name address { city } }"))
        let shallow = try GraphQLCompiler.compile(.sdl(Self.sdl), selectionDepth: 1)
        #expect(try #require(shallow.tool(named: "pet")).binding.document == "query pet($id: ID!) { pet(id: $id) { id name status tags } }")

        let custom = try GraphQLCompiler.compile(
            .sdl(Self.sdl), selections: ["pet": "{ name photos(size: 64) owner { name } }", "pets": "{ nope }"])
        #expect(try #require(custom.tool(named: "pet")).binding.document == "query pet($id: ID!) { pet(id: $id) { name photos(size: 64) owner { name } } }")
        // A selection the schema does not allow is refused with the validator's reason.
        #expect(custom.tool(named: "pets") == nil)
        let skipped = try #require(custom.skipped.first)
        #expect(skipped.signature == "query pets")
        #expect(skipped.reason.contains("Cannot query field \"nope\" on type \"Pet\""))
    }

    @Test func selectionRulesApply() throws {
        let catalog = try GraphQLCompiler.compile(
            .sdl(Self.sdl), rules: ToolSelectionRules(exclude: ["mutation addPet", "count"], overrides: ["pet": (name: "getPet", description: "One pet.")]))
        #expect(catalog.tool(named: "addPet") == nil)
        #expect(catalog.tool(named: "count") == nil)
        #expect(catalog.tool(named: "getPet")?.definition.description == "One pet.")
    }

    @Test func mockDataFollowsTheSelection() throws {
        let catalog = try GraphQLCompiler.compile(.sdl(Self.sdl))
        let pet = try #require(catalog.tool(named: "pet"))
        #expect(pet.binding.mockData["pet"]?["name"] == "string")
        #expect(pet.binding.mockData["pet"]?["status"] == "AVAILABLE")
        #expect(pet.binding.mockData["pet"]?["owner"]?["id"] == "1")
        #expect(pet.binding.mockData["pet"]?["tags"] == ["string"])
        let search = try #require(catalog.tool(named: "search"))
        #expect(search.binding.mockData["search"]?[0]?["__typename"] == "Pet")
    }

    @Test func badSchemasAreNamed() {
        #expect(throws: GraphQLSchemaError.self) { try GraphQLCompiler.compile(.sdl("type Query { pet: Missing }")) }
        do {
            _ = try GraphQLCompiler.compile(.sdl("type Query { pet(: Int }"))
            Issue.record("parsed")
        } catch {
            #expect(error.description.hasPrefix("invalid GraphQL schema: Syntax Error"))
            #expect(error.description.contains("line 1"))
        }
        do {
            _ = try GraphQLCompiler.compile(.introspection(["data": ["types": []]]))
            Issue.record("accepted")
        } catch {
            #expect(error.description.contains("no __schema"))
        }
    }

    @Test func introspectionResultsCompileLikeSDL() throws {
        let introspection: JSONValue = [
            "data": [
                "__schema": [
                    "queryType": ["name": "Query"], "mutationType": .null, "subscriptionType": .null,
                    "types": [
                        [
                            "kind": "OBJECT", "name": "Query", "description": .null, "interfaces": [],
                            "fields": [
                                [
                                    "name": "hello", "description": "Says hello.", "isDeprecated": false,
                                    "args": [["name": "name", "type": ["kind": "NON_NULL", "ofType": ["kind": "SCALAR", "name": "String"]], "defaultValue": .null]],
                                    "type": ["kind": "SCALAR", "name": "String"],
                                ]
                            ],
                        ],
                        ["kind": "SCALAR", "name": "String"],
                        ["kind": "OBJECT", "name": "__Schema", "fields": []],
                    ],
                ]
            ]
        ]
        let catalog = try GraphQLCompiler.compile(.introspection(introspection))
        let hello = try #require(catalog.tool(named: "hello"))
        #expect(hello.definition.description == "Says hello.")
        #expect(hello.binding.document == "query hello($name: String!) { hello(name: $name) }")
    }
}
